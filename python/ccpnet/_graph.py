"""The system as a NetworkX graph: CCPs, members, memberships and links (Model.to_networkx)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx

    from ccpnet._core import Model
    from ccpnet._result import Result


def to_networkx(model: Model, result: Result | None = None) -> nx.Graph:
    """The system graph of a model as a :class:`networkx.Graph`.

    Nodes are CCPs (``kind="ccp"``: ``capital``, ``default_fund``, ``initial_margin``,
    USD) and members (``kind="member"``: ``capital``, ``liquidity``, ``group``), named
    by their ids (``"ccp:ID"`` and ``"member:ID"`` when a member and a CCP share an id).
    Edges are memberships (``kind="membership"`` between a member and a CCP:
    ``initial_margin``, ``default_fund``, ``notional``) and interoperability links
    (``kind="link"`` between two CCPs: ``inter_ccp_margin``, the IM the two CCPs hold
    on each other's link accounts).

    Parameters
    ----------
    model : Model
        The model.
    result : Result, optional
        A run of the model: its estimates overlay the graph for drawing contagion.
        CCPs get ``p_fail`` and ``expected_loss``, members ``p_default`` and
        ``expected_loss`` (over their memberships), memberships ``p_default`` and
        ``expected_loss`` of the account.

    Returns
    -------
    networkx.Graph
        ``graph.graph`` holds ``name`` and ``seed`` of the model.
    """
    import networkx as nx

    ccps, members = list(model.ccp_ids), list(model.member_ids)
    clash = bool(set(ccps) & set(members))

    def ccp_node(i: int) -> str:
        return f"ccp:{ccps[i]}" if clash else ccps[i]

    def member_node(i: int) -> str:
        return f"member:{members[i]}" if clash else members[i]

    g = nx.Graph(name=model.name, seed=model.seed)
    capital, fund, im = model.ccp_capital, model.ccp_default_fund, model.ccp_initial_margin
    for i, ccp in enumerate(ccps):
        g.add_node(ccp_node(i), kind="ccp", id=ccp, capital=float(capital[i]), default_fund=float(fund[i]),
                   initial_margin=float(im[i]))  # fmt: skip
    groups, member_capital, liquidity = list(model.group_ids), model.member_capital, model.member_liquidity
    for i, member in enumerate(members):
        g.add_node(member_node(i), kind="member", id=member, capital=float(member_capital[i]),
                   liquidity=float(liquidity[i]), group=groups[int(model.member_group[i])])  # fmt: skip
    accounts = model.accounts
    kinds, owners, at = list(model.account_kind), model.account_owner, model.account_ccp
    link_margin: dict[frozenset[int], float] = {}
    for a, kind in enumerate(kinds):
        if kind == "member":
            edge = (member_node(int(owners[a])), ccp_node(int(at[a])))
            g.add_edge(*edge, kind="membership", initial_margin=float(accounts["initial_margin"].iloc[a]),
                       default_fund=float(accounts["default_fund"].iloc[a]),
                       notional=float(accounts["notional"].iloc[a]))  # fmt: skip
        elif kind == "link":
            pair = frozenset((int(owners[a]), int(at[a])))
            link_margin[pair] = link_margin.get(pair, 0.0) + float(accounts["initial_margin"].iloc[a])
    for first, second in model.links:
        pair = frozenset((int(first), int(second)))
        g.add_edge(ccp_node(int(first)), ccp_node(int(second)), kind="link",
                   inter_ccp_margin=link_margin.get(pair, 0.0))  # fmt: skip
    if result is not None:
        _overlay(g, result, ccp_node, member_node, ccps, members)
    return g


def _overlay(g: Any, result: Result, ccp_node: Any, member_node: Any, ccps: list[str], members: list[str]) -> None:
    table = result.ccps.set_index("ccp")
    for i, ccp in enumerate(ccps):
        g.nodes[ccp_node(i)]["p_fail"] = float(table.loc[ccp, "p_fail"])
        g.nodes[ccp_node(i)]["expected_loss"] = float(table.loc[ccp, "expected_loss"])
    rows = result.members
    ccp_index = {ccp: i for i, ccp in enumerate(ccps)}
    for i, member in enumerate(members):
        own = rows[rows["member"] == member]
        node = g.nodes[member_node(i)]
        node["p_default"] = float(own["p_default"].iloc[0]) if len(own) else 0.0
        node["expected_loss"] = float(own["expected_loss"].sum())
        for _, row in own.iterrows():
            edge = g.edges[member_node(i), ccp_node(ccp_index[row["ccp"]])]
            edge["p_default"] = float(row["p_default"])
            edge["expected_loss"] = float(row["expected_loss"])
