// The robot-arm forward-dynamics simulator: M(q) symmetric positive definite and equal to the kinetic
// energy's Hessian, inverse/forward dynamics round trip, energy conservation with tau = 0 (RK4), gravity
// torque = grad V, reproducible tables, one-line errors, and the moe-data wiring.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>

#include "cli/run_command.hpp"
#include "data/data_test_util.hpp"
#include "moe/data/robot_arm.hpp"

using namespace moe;
using namespace moe::test;

namespace {

const double pi = 3.14159265358979323846;

arma::vec uniform_vec(Rng& rng, double lo, double hi) { return arma::vec(rng.uniform_matrix(4, 1, lo, hi)); }

arma::vec row_values(const Table& t, std::size_t i, std::size_t first) {
  arma::vec v(4);
  for (std::size_t j = 0; j < 4; ++j) v[j] = std::stod(t.rows[i][first + j]);
  return v;
}

// One RK4 step of the state (q, qd) under qdd = f(q, qd).
void rk4_step(arma::vec& q, arma::vec& qd, double h,
              const std::function<arma::vec(const arma::vec&, const arma::vec&)>& f) {
  const arma::vec k1q = qd, k1v = f(q, qd);
  const arma::vec k2q = qd + 0.5 * h * k1v, k2v = f(q + 0.5 * h * k1q, k2q);
  const arma::vec k3q = qd + 0.5 * h * k2v, k3v = f(q + 0.5 * h * k2q, k3q);
  const arma::vec k4q = qd + h * k3v, k4v = f(q + h * k3q, k4q);
  q += h / 6 * (k1q + 2 * k2q + 2 * k3q + k4q);
  qd += h / 6 * (k1v + 2 * k2v + 2 * k3v + k4v);
}

}  // namespace

TEST_CASE("robot arm: M(q) is symmetric positive definite and is the kinetic energy's Hessian") {
  const RobotArm arm;
  Rng rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    const arma::vec q = uniform_vec(rng, -pi, pi);  // any configuration, not only the sampled ranges
    const arma::mat M = arm.mass_matrix(q);
    REQUIRE(M.n_rows == 4);
    REQUIRE(M.n_cols == 4);
    // RNEA columns are not symmetrised: symmetry checks the recursion.
    CHECK(arma::abs(M - M.t()).max() < 1e-13 * arma::abs(M).max());
    const arma::vec lambda = arma::eig_sym(0.5 * (M + M.t()));
    CHECK(lambda.min() > 1e-3);  // measured minimum over q about 0.01 (M44, the wrist roll, is 0.0257 at q = 0)
    // Polarisation of the kinetic energy, computed from link velocities without M:
    // M_ii = 2 T(e_i), M_ij = T(e_i + e_j) - T(e_i) - T(e_j).
    const auto T = [&](const arma::vec& qd) { return arm.kinetic_energy(q, qd); };
    const arma::mat I = arma::eye(4, 4);
    for (arma::uword i = 0; i < 4; ++i)
      for (arma::uword j = 0; j < 4; ++j) {
        const double expected = i == j ? 2 * T(I.col(i)) : T(I.col(i) + I.col(j)) - T(I.col(i)) - T(I.col(j));
        CHECK(std::abs(M(i, j) - expected) < 1e-12);
      }
    const arma::vec qd = uniform_vec(rng, -5, 5);
    CHECK(std::abs(0.5 * arma::dot(qd, M * qd) - T(qd)) < 1e-12 * (1 + T(qd)));
  }
}

TEST_CASE("robot arm: inverse dynamics (RNEA) returns the torque that forward dynamics was given") {
  const RobotArm arm;
  const RobotArmSampling s;
  Rng rng(12);
  double worst = 0;
  for (int trial = 0; trial < 1000; ++trial) {
    const arma::vec q = uniform_vec(rng, -pi, pi), qd = uniform_vec(rng, -6, 6), tau = uniform_vec(rng, -40, 40);
    const arma::vec qdd = arm.forward_dynamics(q, qd, tau);
    worst = std::max(worst, arma::abs(arm.inverse_dynamics(q, qd, qdd) - tau).max());
  }
  CHECK(worst < 1e-10);

  // The same on a generated table: its qdd columns are the forward dynamics of its q, qd, tau columns
  // (%.17g round-trips doubles exactly), and every draw lies in its range.
  Rng g(3);
  const Table t = generate_robot_arm(500, g, s);
  worst = 0;
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    const arma::vec q = row_values(t, i, 0), qd = row_values(t, i, 4), tau = row_values(t, i, 8);
    worst = std::max(worst, arma::abs(arm.inverse_dynamics(q, qd, row_values(t, i, 12)) - tau).max());
    for (std::size_t j = 0; j < 4; ++j) {
      CHECK(q[j] >= s.q_min[j]);
      CHECK(q[j] <= s.q_max[j]);
      CHECK(std::abs(qd[j]) <= s.qd_max[j]);
      CHECK(std::abs(tau[j]) <= s.tau_max[j]);
    }
  }
  CHECK(worst < 1e-10);
}

TEST_CASE("robot arm: Coriolis/centrifugal terms are quadratic in qd and follow from Lagrange's equations") {
  const RobotArm arm;
  Rng rng(13);
  for (int trial = 0; trial < 50; ++trial) {
    const arma::vec q = uniform_vec(rng, -pi, pi), qd = uniform_vec(rng, -4, 4);
    const arma::vec g = arm.gravity_torque(q);
    CHECK(arma::abs(arm.bias(q, arma::vec(4, arma::fill::zeros)) - g).max() == 0.0);
    const arma::vec c1 = arm.bias(q, qd) - g, c3 = arm.bias(q, 3 * qd) - g;
    CHECK(arma::abs(c3 - 9 * c1).max() < 1e-11 * (1 + arma::abs(c3).max()));
    // Lagrange: c(q, qd) = dM/dt qd - dT/dq with T = kinetic_energy (computed from link velocities, not
    // from RNEA); dM/dt = directional derivative of M along qd. Central differences. (Energy
    // conservation alone cannot see the gyroscopic moments w x I w: they do no work.)
    const double h = 1e-5;
    const arma::mat Mdot = (arm.mass_matrix(q + h * qd) - arm.mass_matrix(q - h * qd)) / (2 * h);
    arma::vec dT(4);
    for (arma::uword k = 0; k < 4; ++k) {
      arma::vec qp = q, qm = q;
      qp[k] += h;
      qm[k] -= h;
      dT[k] = (arm.kinetic_energy(qp, qd) - arm.kinetic_energy(qm, qd)) / (2 * h);
    }
    CHECK(arma::abs(c1 - (Mdot * qd - dT)).max() < 1e-7 * (1 + arma::abs(c1).max()));
    // and the power balance qd' c = 0.5 qd' dM/dt qd (skew symmetry of dM/dt - 2C).
    CHECK(std::abs(arma::dot(qd, c1) - 0.5 * arma::dot(qd, Mdot * qd)) < 1e-7 * (1 + std::abs(arma::dot(qd, c1))));
  }
}

TEST_CASE("robot arm: gravity torque is the gradient of the potential energy (central differences)") {
  const RobotArm arm;
  Rng rng(14);
  const double h = 1e-5;
  double worst = 0, largest = 0;
  for (int trial = 0; trial < 100; ++trial) {
    const arma::vec q = uniform_vec(rng, -pi, pi);
    const arma::vec g = arm.gravity_torque(q);
    for (arma::uword j = 0; j < 4; ++j) {
      arma::vec qp = q, qm = q;
      qp[j] += h;
      qm[j] -= h;
      const double grad = (arm.potential_energy(qp) - arm.potential_energy(qm)) / (2 * h);
      worst = std::max(worst, std::abs(g[j] - grad));
      largest = std::max(largest, std::abs(g[j]));
    }
  }
  CHECK(worst < 1e-8);
  CHECK(largest > 20);  // gravity matters: tens of N m
}

TEST_CASE("robot arm: total energy is conserved with tau = 0 (RK4, 1 s)") {
  const RobotArm arm;
  const RobotArmSampling s;
  Rng rng(15);
  const arma::vec zero(4, arma::fill::zeros);
  using Dynamics = std::function<arma::vec(const arma::vec&, const arma::vec&)>;
  const Dynamics free_motion = [&](const arma::vec& q, const arma::vec& qd) {
    return arm.forward_dynamics(q, qd, zero);
  };
  const Dynamics no_coriolis = [&](const arma::vec& q, const arma::vec&) {
    return arm.forward_dynamics(q, zero, zero);
  };
  const auto energy = [&](const arma::vec& q, const arma::vec& qd) {
    return arm.kinetic_energy(q, qd) + arm.potential_energy(q);
  };
  struct Run {
    double drift = 0, T_min = 1e300, T_max = 0;  // max |E(t) - E(0)|, range of the kinetic energy
  };
  const auto simulate = [&](arma::vec q, arma::vec qd, double h, const Dynamics& f) {
    Run r;
    const double E0 = energy(q, qd);
    for (int step = 0; step < static_cast<int>(std::lround(1.0 / h)); ++step) {
      rk4_step(q, qd, h, f);
      r.drift = std::max(r.drift, std::abs(energy(q, qd) - E0));
      const double T = arm.kinetic_energy(q, qd);
      r.T_min = std::min(r.T_min, T);
      r.T_max = std::max(r.T_max, T);
    }
    return r;
  };
  for (int trial = 0; trial < 3; ++trial) {
    arma::vec q(4), qd(4);
    for (std::size_t j = 0; j < 4; ++j) {
      q[j] = s.q_min[j] + (s.q_max[j] - s.q_min[j]) * rng.uniform();
      qd[j] = s.qd_max[j] * (2 * rng.uniform() - 1);
    }
    const Run fine = simulate(q, qd, 2.5e-4, free_motion), coarse = simulate(q, qd, 5e-4, free_motion);
    CAPTURE(trial);
    CAPTURE(fine.drift);
    CAPTURE(coarse.drift);
    CHECK(fine.drift < 1e-8);             // measured 3e-11 .. 2.4e-9 J, while T swings by 20 .. 80 J
    CHECK(fine.T_max - fine.T_min > 10);  // the arm falls and swings: joules move between T and V
    // What drift is left is RK4's own error: it shrinks about 16 times when h halves (fourth order).
    CHECK(coarse.drift > 8 * fine.drift);
    // The test can tell: dropping the Coriolis/centrifugal terms breaks conservation by joules.
    CHECK(simulate(q, qd, 5e-4, no_coriolis).drift > 1);
  }
}

TEST_CASE("robot arm: a fixed seed gives the same table, columns, noise leaves the states alone") {
  Rng a(7), b(7), c(8);
  const Table t = generate_robot_arm(300, a);
  CHECK(t.columns == std::vector<std::string>{"q1", "q2", "q3", "q4", "qd1", "qd2", "qd3", "qd4", "tau1", "tau2",
                                              "tau3", "tau4", "qdd1", "qdd2", "qdd3", "qdd4"});
  CHECK(t.rows.size() == 300);
  CHECK(generate_robot_arm(300, b).rows == t.rows);
  CHECK(generate_robot_arm(300, c).rows != t.rows);

  RobotArmSampling noisy;
  noisy.noise = 0.5;
  Rng d(7), e(7);
  const Table clean = generate_robot_arm(4000, d), dirty = generate_robot_arm(4000, e, noisy);
  arma::vec diff(4 * 4000);
  for (std::size_t i = 0; i < 4000; ++i) {
    for (std::size_t j = 0; j < 12; ++j) REQUIRE(clean.rows[i][j] == dirty.rows[i][j]);
    for (std::size_t j = 0; j < 4; ++j)
      diff[4 * i + j] = std::stod(dirty.rows[i][12 + j]) - std::stod(clean.rows[i][12 + j]);
  }
  CHECK(std::abs(arma::stddev(diff) - 0.5) < 0.02);
  CHECK(std::abs(arma::mean(diff)) < 0.02);
}

TEST_CASE("robot arm: the default ranges keep the arm in front of the wall and the accelerations comparable") {
  const RobotArm arm;
  const RobotArmSampling s;
  Rng rng(1);
  const Table t = generate_robot_arm(5000, rng, s);
  double nearest = 1e300;
  arma::mat qdd(4, t.rows.size());
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    const RobotArm::Pose p = arm.kinematics(row_values(t, i, 0));
    for (std::size_t l = 1; l < 4; ++l) {  // elbow and wrist (origins of frames 3, 4) and the centres of mass
      nearest = std::min(nearest, p.origin[l][2]);
      nearest = std::min(nearest, arma::vec3(p.origin[l] + p.R[l] * arm.links()[l].com)[2]);
    }
    qdd.col(i) = row_values(t, i, 12);
  }
  CHECK(nearest > 0.08);  // z0 is the distance from the wall
  const arma::vec sd = arma::stddev(qdd, 0, 1);
  CAPTURE(sd);
  CHECK(sd.max() < 2 * sd.min());
  CHECK(sd.min() > 10);
}

TEST_CASE("robot arm: bad input gives one-line errors") {
  Rng rng(1);
  std::string msg = error_of([&] { generate_robot_arm(0, rng); });
  CHECK(msg == "robot-arm needs n > 0");
  RobotArmSampling s;
  s.q_min[2] = 1;
  s.q_max[2] = 0;
  msg = error_of([&] { generate_robot_arm(10, rng, s); });
  CHECK(msg == "robot-arm angle range of joint 3 must be finite with min <= max");
  s = {};
  s.noise = -1;
  CHECK(one_line(error_of([&] { generate_robot_arm(10, rng, s); })));
  s = {};
  s.tau_max[0] = std::nan("");
  CHECK(contains(error_of([&] { generate_robot_arm(10, rng, s); }), "torque bound of joint 1"));
  const RobotArm arm;
  msg = error_of([&] { arm.forward_dynamics(arma::vec(3, arma::fill::zeros), arma::vec(4), arma::vec(4)); });
  CHECK(msg == "robot arm: q has 3 elements, expected 4");
}

TEST_CASE("robot arm: moe-data generate robot-arm writes the library's table, CLI errors are one line") {
  const std::string bin = MOE_DATA_BIN;
  TempDir dir("arm");
  const std::string gen = bin + " generate robot-arm --n 200 --seed 5 --out ";
  auto r = run_command(gen + (dir / "a.csv"));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(r.out == "wrote " + (dir / "a.csv") + " (200 rows, 16 columns)\n");
  REQUIRE(run_command(gen + (dir / "b.csv")).status == 0);
  CHECK(slurp(dir / "a.csv") == slurp(dir / "b.csv"));
  Rng rng(5);
  const Table t = read_csv(dir / "a.csv");
  CHECK(t.rows == generate_robot_arm(200, rng).rows);  // no noise unless --noise is given
  CHECK(t.columns.size() == 16);

  r = run_command(bin + " generate robot-arm --n 200 --seed 5 --noise 0.5 --out " + (dir / "c.csv"));
  REQUIRE(r.status == 0);
  CHECK(read_csv(dir / "c.csv").rows != t.rows);

  r = run_command(bin + " generate robot-arm --n 0 --out " + (dir / "x.csv"));
  CHECK(r.status == 2);
  CHECK(count_lines(r.err) == 1);
  CHECK(contains(r.err, "moe-data: error: "));
  r = run_command(bin + " generate robot-arm --n 10 --inputs 3 --out " + (dir / "x.csv"));
  CHECK(r.status == 2);
  CHECK(r.err == "moe-data: error: --inputs, --experts: apply to linear-mixture only\n");
  CHECK_FALSE(std::filesystem::exists(dir / "x.csv"));
}
