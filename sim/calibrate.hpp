// `ccpnet calibrate`: a scenario skeleton from CCPs' public quantitative
// disclosures (CPMI-IOSCO, "Public quantitative disclosure standards for
// central counterparties", 2015), in the long layout of the CCP12 template:
// one row per disclosed figure.
//
// Columns (a header row; others, e.g. `description`, are carried along unread):
//   ccp               the CCP's identifier
//   clearing_service  the clearing service the figure is for
//   as_of_date        yyyy-mm-dd, the quarter-end date of the figure
//   reference         the PQD reference number, for traceability (not read)
//   field             what the figure is (below)
//   currency          USD (ccpnet works in one currency; convert first)
//   value             the figure
// Fields read (other fields are listed in the skeleton as not used):
//   initial_margin_required  total IM required (PQD 6.1), USD, required
//   prefunded_default_fund   prefunded default fund (PQD 4.1), USD, required
//   capital                  the CCP's equity (PQD 15), USD, required
//   clearing_members         number of clearing members (PQD 18), required
//   skin_in_the_game         own resources in the waterfall (PQD 4.1), USD
//   minimum_capital          EMIR art. 16 minimum capital, USD
//   cover1_stress_loss, cover2_stress_loss   largest stress losses beyond IM
//                            of one / two members (PQD 4.4), USD: quoted in
//                            the skeleton for comparison with ccpnet's sizing
//   top5_im_share, top10_im_share  share of IM posted by the 5 / 10 largest
//                            members (concentration), fractions
// Each (ccp, clearing_service) becomes one CCP of the scenario (id: the ccp,
// or ccp_service when a CCP discloses several services), from its latest
// as_of_date. What PQDs do not say is assumed, and the skeleton says so:
// members' positions in one representative asset per CCP (price 100,
// volatility 0.6), sized so that parametric IM at 99% over 2 days is the IM
// the population gives them, long and short in turn, the difference booked to
// the rest of the market; observed IM and a fixed default fund equal to the
// disclosed figures (members' contributions pro rata to IM); members' capital
// 10 x and liquidity 1 x their IM; no links; the Cover-2 default.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ccpnet {

// One CCP's clearing service as disclosed at one date.
struct Disclosure {
  std::string ccp;
  std::string service;
  std::string date;
  std::map<std::string, double> values;  // field -> value
  std::vector<std::string> unused;       // fields ccpnet does not read
};

// Reads a disclosure file; throws config::ScenarioError with every error
// located in it (FILE:LINE:COL: disclosures: ...). Keeps, per (ccp, service),
// the latest date.
std::vector<Disclosure> read_disclosures(const std::string& path);

// The scenario skeleton (YAML text) for the disclosures; `source` names the
// disclosure file in its comments. Throws config::ScenarioError when a
// disclosure's figures cannot make a population (e.g. concentration shares
// that are not ordered largest first).
std::string calibrated_scenario(const std::vector<Disclosure>& disclosures, const std::string& source);

}  // namespace ccpnet
