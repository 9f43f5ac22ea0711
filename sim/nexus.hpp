// The CCP-bank nexus (SPEC 3.10): what clearing members owe each other
// outside the CCPs, compiled from `interbank` into the model, and cleared
// inside the cascade (Cascade::clear_interbank, in sim/nexus.cpp).
//
// Inside the cascade, after each round's waterfalls and before the members'
// solvency test: every member's equity is its capital after the scenario's
// P&L and its charges at the CCPs (all channels, failed CCPs included); the
// network clears on those equities with the chosen block of models/clearing;
// what a member's debtors do not pay of what they owe it is its interbank
// loss, charged to its capital (LossChannel::kInterbank, booked on its first
// membership); a member it leaves insolvent defaults (DefaultCause::kInterbank)
// and is closed out at every CCP where it clears in the next round, whose
// charges clear the network again, until nothing changes.
//
// A member's balance sheet for the clearing: outside assets
//   e(m) = equity(m) + obligations(m) + external_debt(m) - claims(m),
// so that with everyone paying in full its equity is e + claims - obligations
// - external debt. Eisenberg-Noe lets e be negative (a member whose losses
// exceed its outside assets pays only from what it receives); Rogers-Veraart
// takes max(0, e). DebtRank (linear, Bardoscia et al. 2015) is the valuation
// of Barucca et al. (2020, "Network valuation in financial systems",
// Mathematical Finance 30(4)): a claim on m is worth its face times (1 - h(m)),
// h(m) the share of its equity m lost, h0 its losses in the cascade over its
// capital (1 once it defaults), spread by W(i, j) = min(1, L(i, j) / capital(j)).
//
// What this does not model: a CCP's claim on a defaulter's estate for the
// part of its close-out its own IM and DF did not cover. The survivors bear
// that part in full (the close-out ledger), and the defaulter's negative
// equity, which its interbank creditors share with its outside creditors,
// still counts it: the two channels overlap by the CCP's recovery share, so
// the interbank losses are an upper bound for a defaulter whose close-out
// reached the mutual layers (none for one whose IM and DF covered it).
//
// The ledger of the network: what debtors do not pay of their interbank
// obligations (ScenarioResult::interbank_shortfall, from the debtors' side)
// equals what their creditors lose (interbank_loss, the sum of the
// kInterbank charges), to rounding; it is a block beside the close-out
// ledger, as principal lost in flight is, and total_loss counts it.
#pragma once

#include <Eigen/Core>
#include <Eigen/SparseCore>
#include <optional>
#include <vector>

#include "models/clearing/clearing.hpp"
#include "models/clearing/eisenberg_noe.hpp"
#include "sim/model_types.hpp"

namespace ccpnet {

namespace config {
struct LoadedScenario;
}
struct Model;

struct InterbankNetwork {
  // L(i, j): what member i owes member j (models/clearing's convention), over all members.
  Eigen::SparseMatrix<double, Eigen::RowMajor> liabilities;
  Eigen::VectorXd claims;         // per member: what the others owe it, sum_i L(i, m)
  Eigen::VectorXd obligations;    // per member: what it owes the others, sum_j L(m, j)
  Eigen::VectorXd external_debt;  // per member: owed outside the network
  InterbankClearing clearing = InterbankClearing::kEisenbergNoe;
  models::DebtPriority priority = models::DebtPriority::kPariPassu;
  double alpha = 1.0, beta = 1.0;
  // DebtRank: W(i, j) = min(1, L(i, j) / capital(j)), 1 where capital(j) = 0.
  Eigen::SparseMatrix<double, Eigen::RowMajor> impact;
  // Eisenberg-Noe: the network prepared once for every clearing of the run.
  std::optional<models::EisenbergNoeNetwork> eisenberg_noe;
};

// The network of `loaded`'s interbank section over model.members: from its
// exposures file, or reconstructed from its totals file or capital_multiple.
// Throws ScenarioError, located in the scenario or the CSV file, for a member
// it does not know, a member lending to itself, totals that cannot meet, or a
// member with claims but no CCP to book its losses at. Sets model.interbank.
void compile_interbank(const config::LoadedScenario& loaded, Model& model);

}  // namespace ccpnet
