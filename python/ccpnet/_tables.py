"""Labelled tables of a model's arrays: ids as the index (Model.ccps, Model.members, Model.link_table)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from ccpnet._core import Model


def ccps(model: Model) -> pd.DataFrame:
    """One row per CCP, indexed by its id: ``capital``, ``default_fund`` and ``initial_margin``
    (all accounts it holds, members' and linked CCPs'), in USD."""
    import pandas as pd

    return pd.DataFrame(
        {
            "capital": model.ccp_capital,
            "default_fund": model.ccp_default_fund,
            "initial_margin": model.ccp_initial_margin,
        },
        index=pd.Index(list(model.ccp_ids), name="ccp"),
    )


def members(model: Model) -> pd.DataFrame:
    """One row per member, indexed by its id: ``group``, ``capital`` and ``liquidity`` (USD),
    and its ``initial_margin`` and ``default_fund`` contributions summed over its CCPs."""
    import pandas as pd

    ids = list(model.member_ids)
    groups = list(model.group_ids)
    accounts = model.accounts
    own = accounts[accounts["kind"] == "member"].groupby("owner")[["initial_margin", "default_fund"]].sum()
    frame = pd.DataFrame(
        {
            "group": [groups[int(g)] for g in model.member_group],
            "capital": model.member_capital,
            "liquidity": model.member_liquidity,
        },
        index=pd.Index(ids, name="member"),
    )
    return frame.join(own.reindex(ids, fill_value=0.0))


def link_table(model: Model) -> pd.DataFrame:
    """One row per interoperability link: the two CCPs' ids (``ccp``, ``other_ccp``) and
    ``inter_ccp_margin``, the IM the two hold on each other's link accounts (USD)."""
    import pandas as pd

    ids = list(model.ccp_ids)
    kinds, at, owners = list(model.account_kind), model.account_ccp, model.account_owner
    margin = list(model.initial_margin)
    rows = []
    for first, second in model.links:
        pair = {int(first), int(second)}
        held = sum(m for k, c, o, m in zip(kinds, at, owners, margin) if k == "link" and {int(c), int(o)} == pair)
        rows.append({"ccp": ids[int(first)], "other_ccp": ids[int(second)], "inter_ccp_margin": float(held)})
    return pd.DataFrame.from_records(rows, columns=["ccp", "other_ccp", "inter_ccp_margin"])
