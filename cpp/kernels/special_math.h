// Special functions without a libm counterpart (digamma, Hurwitz zeta, polygamma), for the elementwise
// family. They are Cephes' algorithms as Eigen writes them, which is what TensorFlow's kernels run, so edge
// cases (poles, domain errors) come out as TensorFlow's. Computed in double for float32 too: the loops
// below are not vectorizable anyway, and float32 then rounds once at the end.
#pragma once
#include <cmath>
#include <limits>

namespace tideflow {
namespace special {

constexpr double kPi = 3.14159265358979323846;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kMachEp = 1.11022302462515654042e-16;  // 2^-53, Cephes' MACHEP

// psi(x) = d/dx log Gamma(x). NaN at the poles (non-positive integers, -inf), as Eigen. Below zero the
// reflection psi(x) = psi(1 - x) - pi / tan(pi x) takes pi x modulo the nearest integer first, so tan
// keeps its precision; then psi(x + 1) = psi(x) + 1/x lifts x to >= 10, where the asymptotic series
// ln x - 1/(2x) - sum B_2k / (2k x^2k) is accurate to ~1e-17 with seven terms.
inline double digamma(double x) {
  double reflection = 0;
  const bool negative = x <= 0;
  if (negative) {
    double p = std::floor(x);
    if (p == x) return kNaN;
    double nz = x - p;
    if (nz != 0.5) {
      if (nz > 0.5) nz = x - (p + 1);
      reflection = kPi / std::tan(kPi * nz);
    }
    x = 1 - x;
  }
  double w = 0;
  for (; x < 10; x += 1) w += 1 / x;
  static const double kA[] = {8.33333333333333333333e-2, -2.10927960927960927961e-2, 7.57575757575757575758e-3,
                              -4.16666666666666666667e-3, 3.96825396825396825397e-3, -8.33333333333333333333e-3,
                              8.33333333333333333333e-2};
  const double z = 1 / (x * x);
  double p = 0;
  for (double a : kA) p = p * z + a;
  const double y = std::log(x) - 0.5 / x - z * p - w;
  return negative ? y - reflection : y;
}

// Hurwitz zeta(x, q) = sum_k (k + q)^-x, by Euler-Maclaurin summation (Cephes' zeta). Inf at x == 1, NaN
// for x < 1; for q <= 0 only integer x makes sense (inf at integer q for even x, NaN otherwise).
inline double zeta(double x, double q) {
  static const double kA[] = {12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
                              7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
                              -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18};
  if (x == 1) return kInf;
  if (x < 1) return kNaN;
  if (q <= 0) {
    if (q == std::floor(q)) return (x == std::floor(x) && static_cast<long>(x) % 2 == 0) ? kInf : kNaN;
    if (x != std::floor(x)) return kNaN;  // q^-x is not real
  }
  double s = std::pow(q, -x), a = q, b = 0;
  for (int i = 0; i < 9 || a <= 9; ++i) {
    a += 1;
    b = std::pow(a, -x);
    s += b;
    if (std::abs(b / s) < kMachEp) return s;
  }
  if (b == 0) return s;  // the tail is zero too, and its factor a below could overflow
  const double w = a;
  s += b * w / (x - 1) - 0.5 * b;
  double fa = 1, k = 0;
  for (double c : kA) {
    fa *= x + k;
    b /= w;
    const double t = fa * b / c;
    s += t;
    if (std::abs(t / s) < kMachEp) break;
    k += 1;
    fa *= x + k;
    b /= w;
    k += 1;
  }
  return s;
}

// psi^(n)(x) = (-1)^(n+1) n! zeta(n + 1, x) for integer n >= 1, digamma for n == 0, NaN for other n.
inline double polygamma(double n, double x) {
  if (std::floor(n) != n || n < 0) return kNaN;
  if (n == 0) return digamma(x);
  const double n1 = n + 1;
  return std::pow(-1.0, n1) * std::exp(std::lgamma(n1)) * zeta(n1, x);
}

}  // namespace special
}  // namespace tideflow
