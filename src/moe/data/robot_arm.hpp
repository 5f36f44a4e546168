#pragma once
// Forward dynamics of a 4-joint spatial robot arm, the task of the Jordan & Jacobs (1994) HME study
// (docs/methods.md#hierarchical-mixtures-of-experts-and-em): 12 inputs (joint angles q, velocities qd, torques tau) -> 4 outputs (joint
// accelerations qdd). Rigid links, revolute joints, no friction, no motor inertia.
//
// Equations of motion:  M(q) qdd + b(q, qd) = tau,  b = C(q, qd) qd + g(q)  (Coriolis/centrifugal + gravity).
//   inverse dynamics: recursive Newton-Euler (RNEA) in link frames, tau = RNEA(q, qd, qdd) with gravity;
//   bias b(q, qd) = RNEA(q, qd, 0); gravity torque g(q) = RNEA(q, 0, 0);
//   M(q): column j = RNEA(q, 0, e_j) without gravity;
//   forward dynamics: qdd = M(q)^{-1} (tau - b(q, qd)) by a Cholesky solve (written out, no LAPACK).
// Every q, qd, qdd, tau below is an arma::vec of length 4 (joint 1 = base); M is 4 x 4; units rad,
// rad/s, rad/s^2, N m, kg, m, kg m^2, J.
//
// Link frame i is attached to link i, with its origin on joint i and its z axis along joint i's axis.
// The pose of frame i in frame i-1 is  R_{i-1,i} = R_joint_i * Rz(q_i),  origin p_joint_i  (fixed
// offsets, then a rotation by q_i about the joint's own z axis).
//
// The default arm (RobotArm(), parameters in robot_arm.cpp) is PUMA-like, mounted on a vertical wall:
//   base frame 0: x0 horizontal along the wall, y0 up, z0 out of the wall; gravity (0, -9.81, 0) m/s^2.
//   joint 1 "waist":    axis z0 (horizontal, out of the wall), at the base origin.
//   joint 2 "shoulder": axis perpendicular to joint 1, 0.30 m out from the wall along the column (link 1).
//   joint 3 "elbow":    parallel to joint 2, at the end of the 0.45 m upper arm (link 2), with a 0.10 m
//                       lateral offset along the joint axis (as PUMA's shoulder offset).
//   joint 4 "wrist roll": axis along the 0.40 m forearm (link 3), at its end; it turns the hand plus
//                       load (link 4, 2 kg), whose centre of mass is 0.04 m off the roll axis.
// Angles: q2 = 0 holds the upper arm parallel to the wall, q2 < 0 turns it out of the wall (-pi/2:
// straight out); q3 = 0 is a straight elbow, q3 < 0 bends the forearm further out of the wall.
// Wall mounting makes all four angles matter (on a floor mount the waist angle would drop out of the
// dynamics by symmetry about the vertical).
#include <armadillo>
#include <array>
#include <cstddef>

#include "moe/core/rng.hpp"
#include "moe/data/csv.hpp"

namespace moe {

struct RobotArmLink {
  arma::mat33 R_joint;  // orientation of this link's frame in the previous one at q_i = 0
  arma::vec3 p_joint;   // origin of this link's frame (a point on joint i's axis) in the previous frame, m
  double mass = 0;      // kg
  arma::vec3 com;       // centre of mass in this link's frame, m
  arma::mat33 inertia;  // inertia tensor about the centre of mass, in this link's frame, kg m^2
};

class RobotArm {
 public:
  static constexpr std::size_t dof = 4;

  RobotArm();  // the default wall-mounted PUMA-like arm described above
  RobotArm(const std::array<RobotArmLink, 4>& links, const arma::vec3& gravity);

  const std::array<RobotArmLink, 4>& links() const { return links_; }
  const arma::vec3& gravity() const { return gravity_; }  // in the base frame, m/s^2

  // tau = M(q) qdd + C(q, qd) qd + g(q) (recursive Newton-Euler, gravity included).
  arma::vec inverse_dynamics(const arma::vec& q, const arma::vec& qd, const arma::vec& qdd) const;
  // b(q, qd) = C(q, qd) qd + g(q) = inverse_dynamics(q, qd, 0).
  arma::vec bias(const arma::vec& q, const arma::vec& qd) const;
  // g(q) = inverse_dynamics(q, 0, 0); equals dV/dq for V = potential_energy.
  arma::vec gravity_torque(const arma::vec& q) const;
  // M(q), 4 x 4, symmetric positive definite (column j from RNEA with qdd = e_j; not symmetrised, so
  // its symmetry is a check of the recursion).
  arma::mat mass_matrix(const arma::vec& q) const;
  // qdd = M(q)^{-1} (tau - b(q, qd)).
  arma::vec forward_dynamics(const arma::vec& q, const arma::vec& qd, const arma::vec& tau) const;

  // Kinetic energy sum_i 0.5 m_i |v_ci|^2 + 0.5 w_i' I_i w_i from the link velocities (geometric
  // Jacobians), independent of mass_matrix: it equals 0.5 qd' M(q) qd.
  double kinetic_energy(const arma::vec& q, const arma::vec& qd) const;
  // Potential energy V(q) = -sum_i m_i gravity . c_i (c_i: centre of mass in the base frame), J.
  double potential_energy(const arma::vec& q) const;

  // Forward kinematics: orientation R[i] (frame i -> base) and origin[i] (base frame) of each link frame.
  struct Pose {
    std::array<arma::mat33, 4> R;
    std::array<arma::vec3, 4> origin;
  };
  Pose kinematics(const arma::vec& q) const;

 private:
  arma::vec rnea(const arma::vec& q, const arma::vec& qd, const arma::vec& qdd, bool with_gravity) const;
  std::array<RobotArmLink, 4> links_;
  arma::vec3 gravity_;
};

// Sampling ranges for generate_robot_arm. Every draw is uniform and independent: q_i on
// [q_min_i, q_max_i], qd_i on [-qd_max_i, qd_max_i], tau_i on [-tau_max_i, tau_max_i].
// Defaults: waist +-160 deg (PUMA's range), shoulder -1.0..0.4 rad and elbow -2.6..-0.4 rad (these keep
// the elbow, the wrist and every centre of mass at least 0.08 m in front of the wall), wrist roll a
// full turn; velocities up to 2, 3, 4, 6 rad/s; torques up to 25, 40, 8, 0.8 N m, of the order of the
// gravity torques (largest |g_i(q)| over the angle ranges: 48, 43, 14, 0.8 N m), so the arm is as often
// falling as driven. The torque bounds were chosen to balance the spread of the four accelerations.
// With these, seed 1, 20000 rows: the standard deviations of qdd1..qdd4 are about 31, 26, 38, 35
// rad/s^2 (of which gravity alone gives 19, 9, 15, 18 and Coriolis/centrifugal terms 4, 5, 8, 6), and
// a linear least-squares fit (15000 train / 5000 test) leaves relative errors (test MSE / variance) of
// 0.58, 0.20, 0.38, 0.57: the map is far from linear (M(q)^{-1} multiplies tau; sin/cos of q).
struct RobotArmSampling {
  std::array<double, 4> q_min{-2.8, -1.0, -2.6, -3.14159265358979323846};  // rad
  std::array<double, 4> q_max{2.8, 0.4, -0.4, 3.14159265358979323846};     // rad
  std::array<double, 4> qd_max{2.0, 3.0, 4.0, 6.0};                        // rad/s
  std::array<double, 4> tau_max{25.0, 40.0, 8.0, 0.8};                     // N m
  double noise = 0;  // standard deviation of Gaussian noise added to each qdd, rad/s^2
};

// n observations of the default arm (or `arm`): draws q, qd, tau (in that order, joint 1 first), then
// computes qdd = forward_dynamics(q, qd, tau) and adds noise * N(0, 1) per joint (the 4 normals are
// drawn even when noise = 0, so a seed fixes the states whatever the noise). Columns: q1..q4,
// qd1..qd4, tau1..tau4, qdd1..qdd4, numbers printed with %.17g (exact). Same seed, same table.
// Fails with a one-line moe::Error for n = 0, an empty or reversed range, or negative noise.
Table generate_robot_arm(std::size_t n, Rng& rng, const RobotArmSampling& s = {}, const RobotArm& arm = RobotArm());

}  // namespace moe
