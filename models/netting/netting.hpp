// Netting efficiency in the setting of Duffie & Zhu (2011), "Does a central
// clearing counterparty reduce counterparty risk?", Review of Asset Pricing
// Studies 1(1), 74-95, Section 2: N members, K asset classes, and between every
// two members i != j a net exposure X_ij^k = -X_ji^k in each class, independent
// normal with mean 0 and standard deviation sigma_k. The exposure of i to a
// counterparty is the positive part of what the counterparty owes it, after
// netting whatever the two may net.
//
// Every closed form rests on E[max(Z, 0)] = s / sqrt(2 pi) for Z ~ N(0, s^2):
//   bilateral netting across all K classes, per member:
//     (N - 1) sqrt(sum_k sigma_k^2) / sqrt(2 pi)
//   class 1 cleared by one CCP (multilateral netting of class 1 over the N - 1
//   counterparties), the other classes netted bilaterally, per member:
//     [sigma_1 sqrt(N - 1) + (N - 1) sqrt(sum_{k>1} sigma_k^2)] / sqrt(2 pi)
// With K classes of equal variance the CCP lowers the expected exposure iff
//   sqrt(N - 1) + (N - 1) sqrt(K - 1) < (N - 1) sqrt(K)
//   <=> N - 1 > (sqrt(K) + sqrt(K - 1))^2.
#pragma once

#include <Eigen/Dense>

namespace ccpnet::models {

// E[max(Z, 0)] for Z ~ N(0, sd^2): sd / sqrt(2 pi).
double expected_positive_part(double sd);

// Expected exposure of one member with bilateral netting across every class:
// (N - 1) ||sigma|| / sqrt(2 pi). `class_sd` holds sigma_k per class. Throws
// unless members >= 2 and every sigma_k >= 0.
double bilateral_exposure(int members, const Eigen::VectorXd& class_sd);

// Expected exposure of one member when the first class is cleared by one CCP
// and the others are netted bilaterally (the member's exposure to the CCP
// plus its exposures to the N - 1 others on the remaining classes).
double one_ccp_exposure(int members, const Eigen::VectorXd& class_sd);

// Expected exposure of one member when every class is cleared by one CCP:
// sqrt(N - 1) ||sigma|| / sqrt(2 pi).
double all_cleared_exposure(int members, const Eigen::VectorXd& class_sd);

// The smallest N at which a CCP for one of K classes of equal variance lowers
// the expected exposure: the smallest integer N with
// N - 1 > (sqrt(K) + sqrt(K - 1))^2. Throws unless classes >= 1.
int break_even_members(int classes);

}  // namespace ccpnet::models
