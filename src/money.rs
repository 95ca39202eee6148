//! Exact decimal arithmetic for money and quantities.
//!
//! `rust_decimal`'s `round_dp` rounds half to even; the policy rounds half up (四舍五入),
//! so every rounding here names its strategy. Operators panic on overflow, so everything
//! that touches client-supplied magnitudes goes through `checked_*`.

use rust_decimal::{Decimal, RoundingStrategy};

/// Money is stated to the fen.
pub const MONEY_DP: u32 = 2;

/// Half-up rounding (away from zero at the midpoint) to `dp` decimals.
pub fn round_half_up(value: Decimal, dp: u32) -> Decimal {
    value.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
}

/// A line amount: `quantity × rate`, rounded half-up to 0.01 yuan, always written with
/// exactly two decimals. `None` on overflow.
pub fn line_amount(quantity: Decimal, rate: Decimal) -> Option<Decimal> {
    let product = quantity.checked_mul(rate)?;
    // Most products already have at most two decimals: nothing to round.
    let amount = if product.scale() <= MONEY_DP {
        product
    } else {
        round_half_up(product, MONEY_DP)
    };
    with_scale(amount, MONEY_DP)
}

/// `value` written with exactly `dp` decimals, or `None` when it is too large for that
/// (`rescale` would silently keep fewer).
fn with_scale(mut value: Decimal, dp: u32) -> Option<Decimal> {
    value.rescale(dp);
    (value.scale() == dp).then_some(value)
}

/// Zero yuan, written `0.00`.
pub fn zero_money() -> Decimal {
    Decimal::new(0, MONEY_DP)
}

/// Sums money amounts, keeping two decimals. `None` on overflow.
pub fn sum_money<I: IntoIterator<Item = Decimal>>(amounts: I) -> Option<Decimal> {
    let sum = amounts
        .into_iter()
        .try_fold(zero_money(), |acc, x| acc.checked_add(x))?;
    with_scale(sum, MONEY_DP)
}

/// Splits `total` into parts proportional to `weights` (days), each rounded half-up to the
/// decimals of `total`; the last part takes the remainder so the parts sum exactly.
/// `None` on overflow or when the weights sum to zero.
pub fn prorate(total: Decimal, weights: &[u32]) -> Option<Vec<Decimal>> {
    let whole: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    if whole == 0 {
        return None;
    }
    let dp = total.scale();
    let mut parts = Vec::with_capacity(weights.len());
    let mut assigned = Decimal::ZERO;
    for (i, &w) in weights.iter().enumerate() {
        let part = if i + 1 == weights.len() {
            total.checked_sub(assigned)?
        } else {
            let share = total
                .checked_mul(Decimal::from(w))?
                .checked_div(Decimal::from(whole))?;
            with_scale(round_half_up(share, dp), dp)?
        };
        assigned = assigned.checked_add(part)?;
        parts.push(part);
    }
    Some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn rounds_half_up_not_to_even() {
        assert_eq!(line_amount(d("0.125"), d("1")).unwrap().to_string(), "0.13");
        assert_eq!(line_amount(d("0.135"), d("1")).unwrap().to_string(), "0.14");
        assert_eq!(
            line_amount(d("0.1249"), d("1")).unwrap().to_string(),
            "0.12"
        );
    }

    #[test]
    fn amounts_always_have_two_decimals() {
        assert_eq!(
            line_amount(d("1250000"), d("0.10")).unwrap().to_string(),
            "125000.00"
        );
        assert_eq!(zero_money().to_string(), "0.00");
    }

    #[test]
    fn overflow_is_none_not_a_panic() {
        assert!(line_amount(Decimal::MAX, d("2")).is_none());
        // Fits a decimal, but not with two decimals.
        assert!(line_amount(d("15627511799454467.5"), d("506978740640.14511")).is_none());
    }

    #[test]
    fn prorated_parts_sum_to_the_whole() {
        let parts = prorate(d("100"), &[1, 1, 1]).unwrap();
        assert_eq!(parts, vec![d("33"), d("33"), d("34")]);
        let parts = prorate(d("3100000"), &[17, 14]).unwrap();
        assert_eq!(parts, vec![d("1700000"), d("1400000")]);
        let parts = prorate(d("10.5"), &[1, 2]).unwrap();
        assert_eq!(parts, vec![d("3.5"), d("7.0")]);
    }

    #[test]
    fn proration_rounds_each_part_half_up_to_the_input_decimals() {
        // 5 × 1/2 = 2.5 → 3; the last part takes 2.
        assert_eq!(prorate(d("5"), &[1, 1]).unwrap(), vec![d("3"), d("2")]);
    }
}
