//! Sweeps (one parameter over a range) and goal-seeking (the value that raises a given
//! sum): each point is the reform with one more override, priced over the population.

use rust_decimal::Decimal;

use super::compare::Fen;
use super::report::{GoalReport, PointReport, SweepReport};
use super::{Baseline, Goal, Metric, Problem, Reform, Scenario, Sweep, MAX_SWEEP_POINTS};

/// Totals of one reform pass against the baseline, over members priced on both sides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Point {
    pub baseline_surcharge: i128,
    pub baseline_total: i128,
    pub surcharge: i128,
    pub total: i128,
    pub more: u64,
    pub less: u64,
    pub same: u64,
    /// Members the reformed tariff could not price (left out of every sum).
    pub failed: u64,
}

impl Point {
    pub fn add(&mut self, baseline: (i128, i128), reform: (i128, i128)) {
        self.baseline_surcharge = self.baseline_surcharge.saturating_add(baseline.0);
        self.baseline_total = self.baseline_total.saturating_add(baseline.1);
        self.surcharge = self.surcharge.saturating_add(reform.0);
        self.total = self.total.saturating_add(reform.1);
        match (reform.1 - baseline.1).signum() {
            1 => self.more += 1,
            -1 => self.less += 1,
            _ => self.same += 1,
        }
    }

    pub fn merge(self, other: Point) -> Point {
        Point {
            baseline_surcharge: self
                .baseline_surcharge
                .saturating_add(other.baseline_surcharge),
            baseline_total: self.baseline_total.saturating_add(other.baseline_total),
            surcharge: self.surcharge.saturating_add(other.surcharge),
            total: self.total.saturating_add(other.total),
            more: self.more + other.more,
            less: self.less + other.less,
            same: self.same + other.same,
            failed: self.failed + other.failed,
        }
    }

    fn delta(&self, metric: Metric) -> i128 {
        match metric {
            Metric::Surcharge => self.surcharge.saturating_sub(self.baseline_surcharge),
            Metric::Total => self.total.saturating_sub(self.baseline_total),
        }
    }

    fn report(&self, value: Decimal) -> PointReport {
        PointReport {
            value,
            surcharge: Fen(self.surcharge),
            total: Fen(self.total),
            delta_surcharge: Fen(self.delta(Metric::Surcharge)),
            delta_total: Fen(self.delta(Metric::Total)),
            more: self.more,
            less: self.less,
            same: self.same,
            failed: self.failed,
        }
    }
}

/// Prices the population under `reform` with `key` set to `value`.
fn evaluate(
    scenario: &Scenario,
    reform: &Reform,
    key: &str,
    value: Decimal,
    effective: Option<chrono::NaiveDate>,
    baseline: &Baseline,
) -> Result<Point, Vec<Problem>> {
    let reformed = scenario.reformed(&reform.with(key, value, effective))?;
    Ok(scenario.point(&reformed, baseline))
}

/// The values `from, from + step, … ≤ to`, or where the range is wrong.
fn grid(from: Decimal, to: Decimal, step: Decimal, at: &str) -> Result<u64, Problem> {
    if step <= Decimal::ZERO {
        return Err(Problem::at(format!("{at}/step"), "must be greater than 0"));
    }
    if to < from {
        return Err(Problem::at(
            format!("{at}/to"),
            format!("must not be below the start ({from})"),
        ));
    }
    // A range or a quotient beyond what a decimal holds is too many steps, not a panic.
    let too_many = || Problem::at(format!("{at}/step"), "too many steps for this range");
    let steps = to
        .checked_sub(from)
        .and_then(|width| width.checked_div(step))
        .ok_or_else(too_many)?
        .floor();
    u64::try_from(steps).map_err(|_| too_many())
}

pub fn sweep(
    scenario: &Scenario,
    reform: &Reform,
    sweep: &Sweep,
    baseline: &Baseline,
) -> Result<SweepReport, Vec<Problem>> {
    let steps = grid(sweep.from, sweep.to, sweep.step, "/sweep").map_err(|p| vec![p])?;
    if steps >= MAX_SWEEP_POINTS {
        return Err(vec![Problem::at(
            "/sweep/step",
            format!(
                "the sweep has {} points; at most {MAX_SWEEP_POINTS} are allowed",
                steps + 1
            ),
        )]);
    }
    let mut points = Vec::with_capacity(steps as usize + 1);
    for k in 0..=steps {
        let value = sweep.from + sweep.step * Decimal::from(k);
        let point = evaluate(
            scenario,
            reform,
            &sweep.key,
            value,
            sweep.effective,
            baseline,
        )
        .map_err(|p| at_sweep(p, "/sweep/parameter", value))?;
        points.push(point.report(value));
    }
    Ok(SweepReport {
        parameter: sweep.key.clone(),
        effective: sweep.effective,
        points,
    })
}

/// A problem the varied value caused is the sweep's (or goal's) problem, at that value.
fn at_sweep(problems: Vec<Problem>, pointer: &str, value: Decimal) -> Vec<Problem> {
    problems
        .into_iter()
        .map(|p| Problem::at(pointer, format!("at {value}: {}", p.message)))
        .collect()
}

/// Bisection on the grid, assuming the change moves one way as the value grows (true of
/// every rate and limit of the policy): the grid value closest to the target wins, the
/// one reaching it on a tie.
pub fn goal(
    scenario: &Scenario,
    reform: &Reform,
    goal: &Goal,
    baseline: &Baseline,
) -> Result<GoalReport, Vec<Problem>> {
    let steps = grid(goal.lo, goal.hi, goal.step, "/goal").map_err(|p| vec![p])?;
    let mut evaluations = 0u32;
    let mut at = |k: u64| {
        evaluations += 1;
        let value = goal.lo + goal.step * Decimal::from(k);
        evaluate(scenario, reform, &goal.key, value, goal.effective, baseline)
            .map(|p| (value, p))
            .map_err(|p| at_sweep(p, "/goal/parameter", value))
    };
    let target = super::compare::fen(goal.target.round_dp(2));
    let (lo_value, lo) = at(0)?;
    let (hi_value, hi) = at(steps)?;
    let (d_lo, d_hi) = (lo.delta(goal.metric), hi.delta(goal.metric));
    let rising = d_hi >= d_lo;
    let reached = |d: i128| if rising { d >= target } else { d <= target };
    if target < d_lo.min(d_hi) || target > d_lo.max(d_hi) {
        return Err(vec![Problem::at(
            "/goal/target",
            format!(
                "not reachable: the change runs from {} (at {lo_value}) to {} (at {hi_value})",
                Fen(d_lo),
                Fen(d_hi)
            ),
        )]);
    }
    // Invariant: the target is not reached at `below`, and is reached at `above`.
    let (mut below, mut above) = (None, (steps, hi_value, hi));
    if reached(d_lo) {
        above = (0, lo_value, lo);
    } else {
        below = Some((0, lo_value, lo));
        while above.0 - below.map_or(0, |b| b.0) > 1 {
            let mid = below.map_or(0, |b| b.0) + (above.0 - below.map_or(0, |b| b.0)) / 2;
            let (value, point) = at(mid)?;
            if reached(point.delta(goal.metric)) {
                above = (mid, value, point);
            } else {
                below = Some((mid, value, point));
            }
        }
    }
    let miss = |p: &Point| (p.delta(goal.metric) - target).abs();
    let (best, other) = match below {
        Some(b) if miss(&b.2) < miss(&above.2) => (b, Some(above)),
        Some(b) => (above, Some(b)),
        None => (above, None),
    };
    Ok(GoalReport {
        parameter: goal.key.clone(),
        effective: goal.effective,
        metric: goal.metric,
        target: Fen(target),
        value: best.1,
        achieved: Fen(best.2.delta(goal.metric)),
        exact: best.2.delta(goal.metric) == target,
        result: best.2.report(best.1),
        neighbour: other.map(|o| o.2.report(o.1)),
        evaluations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_too_wide_for_its_step_is_a_problem_at_the_step_not_a_panic() {
        let tiny = Decimal::new(1, 28);
        let ranges = [
            (Decimal::ZERO, Decimal::MAX, tiny),
            (Decimal::MIN, Decimal::MAX, Decimal::ONE),
            (Decimal::ZERO, Decimal::ONE, tiny),
        ];
        for (from, to, step) in ranges {
            let problem = grid(from, to, step, "/sweep").unwrap_err();
            assert_eq!(problem.pointer, "/sweep/step", "{from}..{to} by {step}");
        }
        assert_eq!(
            grid(Decimal::ZERO, Decimal::ONE, Decimal::new(25, 2), "/goal"),
            Ok(4)
        );
    }
}
