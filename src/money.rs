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
#[inline]
pub fn line_amount(quantity: Decimal, rate: Decimal) -> Option<Amount> {
    match exact::line_amount(quantity, rate) {
        Some(fen) => fen.map(Amount::of_fen),
        None => crate_line_amount(quantity, rate).map(Amount::of),
    }
}

/// An amount of money as a bill writes it (yuan, two decimals) and as its sums add it (fen).
/// The fen are carried beside the decimal, not read back from it: a decimal just built is
/// still being stored in pieces, and reading it whole stalled on the store, half of what
/// adding a line cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    pub yuan: Decimal,
    fen: i128,
}

impl Amount {
    /// `yuan`, which is written with two decimals.
    fn of(yuan: Decimal) -> Amount {
        debug_assert_eq!(yuan.scale(), MONEY_DP);
        Amount {
            yuan,
            fen: yuan.mantissa(),
        }
    }

    /// `fen` (below 2^96) as yuan with two decimals.
    #[inline(always)]
    fn of_fen(fen: u128) -> Amount {
        Amount {
            yuan: fen_to_decimal(fen, false),
            fen: fen as i128,
        }
    }
}

/// `line_amount` by `rust_decimal` alone: the reference the fast path is tested against, and
/// the path for values it leaves alone.
fn crate_line_amount(quantity: Decimal, rate: Decimal) -> Option<Decimal> {
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

/// A sum of money amounts, kept in integer fen: exact, and several times faster than adding
/// decimals.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sum(i128);

impl Sum {
    /// The sum with `amount` added; `None` on overflow.
    #[inline]
    pub fn with(self, amount: Amount) -> Option<Sum> {
        self.0.checked_add(amount.fen).map(Sum)
    }

    #[inline]
    pub fn plus(self, other: Sum) -> Option<Sum> {
        self.0.checked_add(other.0).map(Sum)
    }

    /// Whether a decimal can hold the sum.
    #[inline]
    pub fn fits(self) -> bool {
        self.0.unsigned_abs() < 1 << 96
    }

    /// The sum written with two decimals, where it [`fits`](Sum::fits) (the high bits are
    /// dropped where it does not).
    #[inline]
    pub fn yuan(self) -> Decimal {
        debug_assert!(self.fits());
        fen_to_decimal(self.0.unsigned_abs(), self.0 < 0)
    }
}

/// `fen` (below 2^96) as yuan with two decimals, built from its 32-bit words (not through
/// `from_i128_with_scale`, whose `Result` went through memory).
#[inline(always)]
fn fen_to_decimal(fen: u128, negative: bool) -> Decimal {
    Decimal::from_parts(
        fen as u32,
        (fen >> 32) as u32,
        (fen >> 64) as u32,
        negative,
        MONEY_DP,
    )
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

/// The common cases of line amounts in integers, the engine's hot path: every line amount
/// goes through here. `rust_decimal` computes the same values several times slower through
/// general routines; the tests below hold the two equal.
mod exact {
    use rust_decimal::Decimal;

    use super::MONEY_DP;

    /// Decimals carry 96-bit mantissas.
    const LIMIT: u128 = 1 << 96;

    const fn powers_of_ten() -> [u128; 39] {
        let mut p = [1u128; 39];
        let mut i = 1;
        while i < 39 {
            p[i] = p[i - 1] * 10;
            i += 1;
        }
        p
    }
    const TEN: [u128; 39] = powers_of_ten();

    /// `Some(answer)` in fen where the exact product of two non-negative values fits a
    /// decimal (so `rust_decimal` multiplies without rounding too); `None` leaves the case
    /// to the crate.
    #[inline]
    pub fn line_amount(quantity: Decimal, rate: Decimal) -> Option<Option<u128>> {
        if quantity.is_sign_negative() || rate.is_sign_negative() {
            return None;
        }
        let (q, r) = (mantissa(quantity), mantissa(rate));
        let scale = quantity.scale() + rate.scale();
        if q >= 1 << 64 || r >= 1 << 64 || scale > 28 {
            return None;
        }
        let product = q * r;
        if product >= LIMIT {
            return None;
        }
        let fen = if scale >= MONEY_DP {
            divide_half_up(product, TEN[(scale - MONEY_DP) as usize])
        } else {
            // Fewer than two decimals: written with two, if that still fits.
            let fen = product * TEN[(MONEY_DP - scale) as usize];
            if fen >= LIMIT {
                return Some(None);
            }
            fen
        };
        Some(Some(fen))
    }

    /// `value / divisor`, the half rounded up; in 64 bits where the value allows.
    fn divide_half_up(value: u128, divisor: u128) -> u128 {
        if divisor == 1 {
            return value;
        }
        let (quotient, remainder) = match (u64::try_from(value), u64::try_from(divisor)) {
            (Ok(v), Ok(d)) => (u128::from(v / d), u128::from(v % d)),
            _ => (value / divisor, value % divisor),
        };
        quotient + u128::from(remainder * 2 >= divisor)
    }

    fn mantissa(d: Decimal) -> u128 {
        let u = d.unpack();
        u128::from(u.lo) | u128::from(u.mid) << 32 | u128::from(u.hi) << 64
    }
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
        assert_eq!(
            line_amount(d("0.125"), d("1")).unwrap().yuan.to_string(),
            "0.13"
        );
        assert_eq!(
            line_amount(d("0.135"), d("1")).unwrap().yuan.to_string(),
            "0.14"
        );
        assert_eq!(
            line_amount(d("0.1249"), d("1")).unwrap().yuan.to_string(),
            "0.12"
        );
    }

    #[test]
    fn amounts_always_have_two_decimals() {
        assert_eq!(
            line_amount(d("1250000"), d("0.10"))
                .unwrap()
                .yuan
                .to_string(),
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

    /// Mantissas from every range the fast paths split on: small, past 64 bits, near 96;
    /// small integers and odd fives, whose products fall on the rounding midpoint.
    fn decimal() -> impl proptest::strategy::Strategy<Value = Decimal> {
        use proptest::prelude::*;
        let mantissa = prop_oneof![
            0i128..10,
            (0i128..1_000_000).prop_map(|m| m * 10 + 5),
            0i128..1_000_000_000_000,
            0i128..(1 << 64) + 1_000,
            any::<i128>().prop_map(|m| m % (1 << 96)),
        ];
        (mantissa, prop_oneof![0u32..=4, 0u32..=28], any::<bool>()).prop_map(
            |(m, scale, negative)| {
                let mut d = Decimal::from_i128_with_scale(m, scale);
                d.set_sign_negative(negative && m % 7 == 0);
                d
            },
        )
    }

    proptest::proptest! {
        /// Compared as text: the same value with another scale would be a different bill.
        #[test]
        fn line_amounts_are_rust_decimals(quantity in decimal(), rate in decimal()) {
            let ours = line_amount(quantity, rate);
            let theirs = crate_line_amount(quantity, rate).map(|d| d.to_string());
            proptest::prop_assert_eq!(ours.map(|a| a.yuan.to_string()), theirs);
            if let Some(amount) = ours {
                proptest::prop_assert_eq!(amount.fen, amount.yuan.mantissa());
            }
        }

        /// Amounts in fen up to the 96-bit limit (whose sums overflow), and small ones of
        /// either sign; `rust_decimal` adds them as the reference.
        #[test]
        fn sums_are_rust_decimals(
            large in proptest::collection::vec(0i128..1 << 96, 0..6),
            small in proptest::collection::vec(-1_000_000_000_000i128..1_000_000_000_000, 0..6),
        ) {
            for fen in [large, small] {
                let mut amounts = fen.iter().map(|f| Decimal::from_i128_with_scale(*f, MONEY_DP));
                let ours = amounts
                    .clone()
                    .map(Amount::of)
                    .try_fold(Sum::default(), Sum::with)
                    .filter(|sum| sum.fits())
                    .map(Sum::yuan)
                    .map(|d| d.to_string());
                let theirs = amounts
                    .try_fold(zero_money(), |acc, x| acc.checked_add(x))
                    .and_then(|sum| with_scale(sum, MONEY_DP))
                    .map(|d| d.to_string());
                proptest::prop_assert_eq!(ours, theirs);
            }
        }
    }
}
