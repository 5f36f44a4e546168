#include "moe/data/robot_arm.hpp"

#include <cmath>
#include <cstdio>
#include <string>

#include "moe/core/error.hpp"

namespace moe {

namespace {

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

arma::mat33 rot_x(double a) {
  const double c = std::cos(a), s = std::sin(a);
  return arma::mat33{{1, 0, 0}, {0, c, -s}, {0, s, c}};
}
arma::mat33 rot_y(double a) {
  const double c = std::cos(a), s = std::sin(a);
  return arma::mat33{{c, 0, s}, {0, 1, 0}, {-s, 0, c}};
}
arma::mat33 rot_z(double a) {
  const double c = std::cos(a), s = std::sin(a);
  return arma::mat33{{c, -s, 0}, {s, c, 0}, {0, 0, 1}};
}

// Inertia of a solid cylinder (mass m, radius r, length l) about its centre, its axis along `axis`
// (0 = x, 2 = z): m r^2 / 2 about that axis, m (3 r^2 + l^2) / 12 about the other two.
arma::mat33 cylinder(double m, double r, double l, int axis) {
  arma::vec3 d;
  d.fill(m * (3 * r * r + l * l) / 12);
  d[axis] = m * r * r / 2;
  return arma::diagmat(d);
}

RobotArmLink link(const arma::mat33& R_joint, const arma::vec3& p_joint, double mass, const arma::vec3& com,
                  const arma::mat33& inertia) {
  RobotArmLink l;
  l.R_joint = R_joint;
  l.p_joint = p_joint;
  l.mass = mass;
  l.com = com;
  l.inertia = inertia;
  return l;
}

// The default arm. Links are solid cylinders (plus a lumped hand); sizes and masses are of the order
// of a PUMA 560's first links, rounded.
//   link 1 column:    5.0 kg, cylinder r 0.08 m, 0.30 m along z1; centre of mass (0, 0, 0.15).
//   link 2 upper arm: 6.0 kg, cylinder r 0.05 m, 0.45 m along x2; centre of mass (0.20, 0, 0.03)
//                     (0.03 m towards the elbow offset, for the motor housing).
//   link 3 forearm:   3.0 kg, cylinder r 0.04 m, 0.40 m along x3; centre of mass (0.18, 0, 0).
//   link 4 hand+load: 2.0 kg, a disc r 0.15 m, 0.04 m thick, on the roll axis z4; centre of mass
//                     (0.04, 0, 0.06): an eccentric load 0.04 m off the roll axis, 0.06 m past the wrist.
//                     (A light hand far off the roll axis would make qdd4 ten times the others: the
//                     disc's roll inertia, 0.0225 kg m^2, keeps the wrist's accelerations comparable.)
//   frames: joint 2 at (0, 0, 0.30) in frame 1 with R_joint = Rx(-pi/2) (z2 = y1);
//           joint 3 at (0.45, 0, 0.10) in frame 2 with R_joint = I (parallel to joint 2);
//           joint 4 at (0.40, 0, 0) in frame 3 with R_joint = Ry(pi/2) (z4 = x3, roll about the forearm).
//   gravity: (0, -9.81, 0) in the base frame (the wall is the x0-y0 plane, y0 up).
std::array<RobotArmLink, 4> default_links() {
  const double pi = 3.14159265358979323846;
  return {link(arma::mat33(arma::fill::eye), {0, 0, 0}, 5.0, {0, 0, 0.15}, cylinder(5.0, 0.08, 0.30, 2)),
          link(rot_x(-pi / 2), {0, 0, 0.30}, 6.0, {0.20, 0, 0.03}, cylinder(6.0, 0.05, 0.45, 0)),
          link(arma::mat33(arma::fill::eye), {0.45, 0, 0.10}, 3.0, {0.18, 0, 0}, cylinder(3.0, 0.04, 0.40, 0)),
          link(rot_y(pi / 2), {0.40, 0, 0}, 2.0, {0.04, 0, 0.06}, cylinder(2.0, 0.15, 0.04, 2))};
}

void check_size(const arma::vec& v, const char* name) {
  if (v.n_elem != RobotArm::dof)
    fail(std::string("robot arm: ") + name + " has " + std::to_string(v.n_elem) + " elements, expected 4");
}

}  // namespace

RobotArm::RobotArm() : RobotArm(default_links(), arma::vec3{0, -9.81, 0}) {}

RobotArm::RobotArm(const std::array<RobotArmLink, 4>& links, const arma::vec3& gravity)
    : links_(links), gravity_(gravity) {
  for (const auto& l : links_) {
    require(l.mass > 0, "robot arm: every link needs a mass > 0");
    require(arma::approx_equal(l.inertia, l.inertia.t(), "absdiff", 1e-12),
            "robot arm: link inertia tensors must be symmetric");
  }
}

// Recursive Newton-Euler in link frames (Luh, Walker & Paul 1980). All vectors of link i are in frame i.
// Gravity enters as an upward acceleration -gravity of the base. Returns tau (4).
arma::vec RobotArm::rnea(const arma::vec& q, const arma::vec& qd, const arma::vec& qdd, bool with_gravity) const {
  check_size(q, "q");
  check_size(qd, "qd");
  check_size(qdd, "qdd");
  const arma::vec3 z{0, 0, 1};
  std::array<arma::mat33, 4> R;    // R[i]: frame i in frame i-1
  std::array<arma::vec3, 4> F, N;  // net force at the centre of mass and net moment about it, link i
  arma::vec3 w(arma::fill::zeros), wd(arma::fill::zeros);  // angular velocity, acceleration of the previous link
  arma::vec3 a = with_gravity ? arma::vec3(-gravity_) : arma::vec3(arma::fill::zeros);  // its origin's acceleration
  for (std::size_t i = 0; i < dof; ++i) {
    const RobotArmLink& L = links_[i];
    R[i] = L.R_joint * rot_z(q[i]);
    const arma::mat33 Rt = R[i].t();
    // Origin of frame i: a point of link i-1 at p_joint.
    const arma::vec3 a_i = Rt * (a + arma::cross(wd, L.p_joint) + arma::cross(w, arma::cross(w, L.p_joint)));
    const arma::vec3 w_prev = Rt * w;
    const arma::vec3 w_i = w_prev + qd[i] * z;
    const arma::vec3 wd_i = Rt * wd + arma::cross(w_prev, qd[i] * z) + qdd[i] * z;
    const arma::vec3 a_c = a_i + arma::cross(wd_i, L.com) + arma::cross(w_i, arma::cross(w_i, L.com));
    F[i] = L.mass * a_c;
    N[i] = L.inertia * wd_i + arma::cross(w_i, L.inertia * w_i);
    w = w_i;
    wd = wd_i;
    a = a_i;
  }
  arma::vec tau(dof);
  arma::vec3 f(arma::fill::zeros), n(arma::fill::zeros);  // force, moment of link i on link i+1 (frame i+1)
  for (std::size_t i = dof; i-- > 0;) {
    const RobotArmLink& L = links_[i];
    arma::vec3 f_child(arma::fill::zeros), n_child(arma::fill::zeros);
    if (i + 1 < dof) {
      f_child = R[i + 1] * f;
      n_child = R[i + 1] * n + arma::cross(links_[i + 1].p_joint, f_child);
    }
    // Moments about the origin of frame i (on joint i's axis).
    n = N[i] + n_child + arma::cross(L.com, F[i]);
    f = F[i] + f_child;
    tau[i] = n[2];
  }
  return tau;
}

arma::vec RobotArm::inverse_dynamics(const arma::vec& q, const arma::vec& qd, const arma::vec& qdd) const {
  return rnea(q, qd, qdd, true);
}

arma::vec RobotArm::bias(const arma::vec& q, const arma::vec& qd) const {
  return rnea(q, qd, arma::vec(dof, arma::fill::zeros), true);
}

arma::vec RobotArm::gravity_torque(const arma::vec& q) const {
  const arma::vec zero(dof, arma::fill::zeros);
  return rnea(q, zero, zero, true);
}

arma::mat RobotArm::mass_matrix(const arma::vec& q) const {
  arma::mat M(dof, dof);
  const arma::vec zero(dof, arma::fill::zeros);
  for (std::size_t j = 0; j < dof; ++j) {
    arma::vec e(dof, arma::fill::zeros);
    e[j] = 1;
    M.col(j) = rnea(q, zero, e, false);
  }
  return M;
}

arma::vec RobotArm::forward_dynamics(const arma::vec& q, const arma::vec& qd, const arma::vec& tau) const {
  check_size(tau, "tau");
  // Cholesky M = L L' and two triangular solves, written out (4 x 4) rather than through LAPACK so that
  // the numbers, and so a seed's table, do not depend on the BLAS/LAPACK build or the CPU's kernels.
  const arma::mat M = mass_matrix(q);
  double L[4][4] = {};
  for (std::size_t j = 0; j < dof; ++j) {
    double d = M(j, j);
    for (std::size_t k = 0; k < j; ++k) d -= L[j][k] * L[j][k];
    if (!(d > 0)) fail("robot arm: mass matrix is not positive definite");
    L[j][j] = std::sqrt(d);
    for (std::size_t i = j + 1; i < dof; ++i) {
      double v = 0.5 * (M(i, j) + M(j, i));  // the symmetric part (M is symmetric to rounding)
      for (std::size_t k = 0; k < j; ++k) v -= L[i][k] * L[j][k];
      L[i][j] = v / L[j][j];
    }
  }
  arma::vec x = tau - bias(q, qd);
  for (std::size_t i = 0; i < dof; ++i) {  // L y = rhs
    for (std::size_t k = 0; k < i; ++k) x[i] -= L[i][k] * x[k];
    x[i] /= L[i][i];
  }
  for (std::size_t i = dof; i-- > 0;) {  // L' qdd = y
    for (std::size_t k = i + 1; k < dof; ++k) x[i] -= L[k][i] * x[k];
    x[i] /= L[i][i];
  }
  return x;
}

RobotArm::Pose RobotArm::kinematics(const arma::vec& q) const {
  check_size(q, "q");
  Pose p;
  arma::mat33 R = arma::mat33(arma::fill::eye);
  arma::vec3 o(arma::fill::zeros);
  for (std::size_t i = 0; i < dof; ++i) {
    o = o + R * links_[i].p_joint;
    R = R * links_[i].R_joint * rot_z(q[i]);
    p.R[i] = R;
    p.origin[i] = o;
  }
  return p;
}

double RobotArm::kinetic_energy(const arma::vec& q, const arma::vec& qd) const {
  check_size(qd, "qd");
  const Pose p = kinematics(q);
  double T = 0;
  for (std::size_t i = 0; i < dof; ++i) {
    const arma::vec3 c = p.origin[i] + p.R[i] * links_[i].com;
    arma::vec3 v(arma::fill::zeros), w(arma::fill::zeros);
    for (std::size_t j = 0; j <= i; ++j) {  // geometric Jacobian columns: z_j x (c - o_j) and z_j
      const arma::vec3 zj = p.R[j].col(2);
      v += qd[j] * arma::cross(zj, c - p.origin[j]);
      w += qd[j] * zj;
    }
    const arma::vec3 w_local = p.R[i].t() * w;  // the inertia tensor is given in the link frame
    T += 0.5 * links_[i].mass * arma::dot(v, v) + 0.5 * arma::dot(w_local, links_[i].inertia * w_local);
  }
  return T;
}

double RobotArm::potential_energy(const arma::vec& q) const {
  const Pose p = kinematics(q);
  double V = 0;
  for (std::size_t i = 0; i < dof; ++i) V -= links_[i].mass * arma::dot(gravity_, p.origin[i] + p.R[i] * links_[i].com);
  return V;
}

Table generate_robot_arm(std::size_t n, Rng& rng, const RobotArmSampling& s, const RobotArm& arm) {
  require(n > 0, "robot-arm needs n > 0");
  for (std::size_t j = 0; j < RobotArm::dof; ++j) {
    const std::string joint = " of joint " + std::to_string(j + 1);
    require(std::isfinite(s.q_min[j]) && std::isfinite(s.q_max[j]) && s.q_min[j] <= s.q_max[j],
            "robot-arm angle range" + joint + " must be finite with min <= max");
    require(std::isfinite(s.qd_max[j]) && s.qd_max[j] >= 0, "robot-arm velocity bound" + joint + " must be >= 0");
    require(std::isfinite(s.tau_max[j]) && s.tau_max[j] >= 0, "robot-arm torque bound" + joint + " must be >= 0");
  }
  require(std::isfinite(s.noise) && s.noise >= 0, "robot-arm noise must be >= 0");

  Table table;
  table.source = "robot-arm";
  for (const char* name : {"q", "qd", "tau", "qdd"})
    for (std::size_t j = 0; j < RobotArm::dof; ++j) table.columns.push_back(name + std::to_string(j + 1));
  table.rows.reserve(n);
  arma::vec q(4), qd(4), tau(4);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < 4; ++j) q[j] = s.q_min[j] + (s.q_max[j] - s.q_min[j]) * rng.uniform();
    for (std::size_t j = 0; j < 4; ++j) qd[j] = s.qd_max[j] * (2 * rng.uniform() - 1);
    for (std::size_t j = 0; j < 4; ++j) tau[j] = s.tau_max[j] * (2 * rng.uniform() - 1);
    arma::vec qdd = arm.forward_dynamics(q, qd, tau);
    for (std::size_t j = 0; j < 4; ++j) qdd[j] += s.noise * rng.normal();
    std::vector<std::string> row;
    row.reserve(16);
    for (const arma::vec* v : {&q, &qd, &tau, &qdd})
      for (double x : *v) row.push_back(num(x));
    table.rows.push_back(std::move(row));
  }
  return table;
}

}  // namespace moe
