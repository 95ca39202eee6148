//! Exact parsing of decimal numbers written in JSON-number grammar.
//!
//! Requests and tariff files write quantities, prices and limits either as JSON numbers or
//! as strings; both go through this one parser, never through `f64`.

use rust_decimal::Decimal;
use std::str::FromStr;

/// Magnitudes at or above 10^18 are refused: no meter reads that much, and products of two
/// such numbers would not fit a decimal.
pub const MAX_INTEGER_DIGITS: u32 = 18;
const LIMIT: i64 = 10i64.pow(MAX_INTEGER_DIGITS);
pub const MAX_DECIMALS: u32 = 12;
/// A `Decimal` holds 28 significant digits; more cannot be kept exactly.
const MAX_SIGNIFICANT_DIGITS: usize = 28;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error(
        "`{0}` is not a number (use JSON number syntax: digits, optional fraction and exponent)"
    )]
    Syntax(String),
    #[error("`{0}` is too large: the magnitude must be below 10^18")]
    TooLarge(String),
    #[error("`{0}` has more than 12 decimals")]
    TooManyDecimals(String),
    #[error("`{0}` has more than 28 significant digits and cannot be represented exactly")]
    TooManyDigits(String),
}

/// Parses `text` exactly, or says why it cannot be.
pub fn parse_decimal(text: &str) -> Result<Decimal, NumberError> {
    let shape = Shape::of(text).ok_or_else(|| NumberError::Syntax(text.to_string()))?;
    if shape.significant_digits > MAX_SIGNIFICANT_DIGITS {
        return Err(NumberError::TooManyDigits(text.to_string()));
    }
    let value = match shape.exact() {
        Some(value) => value,
        None if shape.has_exponent => {
            Decimal::from_scientific(text).map_err(|_| NumberError::TooLarge(text.to_string()))?
        }
        None => Decimal::from_str(text).map_err(|_| NumberError::TooLarge(text.to_string()))?,
    };
    // Up to 18 integer digits without an exponent stay below the limit; only others compare.
    let may_reach = shape.has_exponent || shape.integer_digits > MAX_INTEGER_DIGITS as usize;
    if may_reach && value.abs() >= Decimal::from(LIMIT) {
        return Err(NumberError::TooLarge(text.to_string()));
    }
    // Trailing zeros do not count as decimals: 1.0000000000000 is 1.
    if value.scale() > MAX_DECIMALS && value.normalize().scale() > MAX_DECIMALS {
        return Err(NumberError::TooManyDecimals(text.to_string()));
    }
    Ok(value)
}

/// What the grammar check learns on the way.
struct Shape {
    significant_digits: usize,
    /// Digits before the point or exponent, as written.
    integer_digits: usize,
    has_exponent: bool,
    negative: bool,
    /// All digits as one integer (exact while there are at most 28 significant digits).
    mantissa: u128,
    decimals: usize,
}

impl Shape {
    /// The value straight from the scan, where no exponent or overlong fraction needs the
    /// general parser.
    fn exact(&self) -> Option<Decimal> {
        if self.has_exponent || self.decimals > 28 {
            return None;
        }
        let signed = i128::try_from(self.mantissa).ok()?;
        let value = Decimal::from_i128_with_scale(
            if self.negative { -signed } else { signed },
            self.decimals as u32,
        );
        Some(value)
    }
}

impl Shape {
    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, counting significant digits.
    fn of(text: &str) -> Option<Shape> {
        let b = text.as_bytes();
        let mut i = usize::from(b.first() == Some(&b'-'));
        let int_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let int_digits = &b[int_start..i];
        if int_digits.is_empty() || (int_digits.len() > 1 && int_digits[0] == b'0') {
            return None;
        }
        let mut frac_digits: &[u8] = &[];
        if i < b.len() && b[i] == b'.' {
            let start = i + 1;
            i = start;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            frac_digits = &b[start..i];
            if frac_digits.is_empty() {
                return None;
            }
        }
        let mut has_exponent = false;
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            has_exponent = true;
            i += 1;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                i += 1;
            }
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == start || i - start > 3 {
                return None;
            }
        }
        if i != b.len() {
            return None;
        }
        let significant = int_digits
            .iter()
            .chain(frac_digits)
            .skip_while(|d| **d == b'0');
        let digits = significant.clone().count();
        // Nineteen digits always fit a u64, whose arithmetic is cheaper than u128's.
        let mantissa = if digits <= 19 {
            u128::from(significant.fold(0u64, |m, d| m * 10 + u64::from(d - b'0')))
        } else if digits <= MAX_SIGNIFICANT_DIGITS {
            significant.fold(0u128, |m, d| m * 10 + u128::from(d - b'0'))
        } else {
            0
        };
        Some(Shape {
            significant_digits: digits,
            integer_digits: int_digits.len(),
            has_exponent,
            negative: b.first() == Some(&b'-'),
            mantissa,
            decimals: frac_digits.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_json_numbers_exactly() {
        for (text, expected) in [
            ("0", "0"),
            ("125000", "125000"),
            ("0.10", "0.10"),
            ("-10", "-10"),
            ("1.5e3", "1500"),
            ("1E-2", "0.01"),
            ("999999999999999999", "999999999999999999"),
            ("0.000000000001", "0.000000000001"),
            ("1000000000000", "1000000000000"),
        ] {
            assert_eq!(
                parse_decimal(text).map(|d| d.normalize()),
                Ok(expected.parse::<Decimal>().unwrap().normalize()),
                "{text}"
            );
        }
    }

    #[test]
    fn keeps_the_written_decimals_and_sign() {
        for text in [
            "0.10",
            "-1.50",
            "13650",
            "0.000000000001",
            "-0.5",
            "1250000.000",
            "999999999999999999.9999999999",
        ] {
            assert_eq!(
                parse_decimal(text).map(|d| d.to_string()).as_deref(),
                Ok(text),
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_what_json_would_not_write() {
        for text in [
            "", " 1", "1 ", "+1", "01", "1.", ".5", "1_000", "1,000", "0x10", "NaN", "Infinity",
            "1e", "--1", "1.2.3", "١٢",
        ] {
            assert!(
                matches!(parse_decimal(text), Err(NumberError::Syntax(_))),
                "{text:?}"
            );
        }
    }

    #[test]
    fn refuses_numbers_it_cannot_hold_exactly() {
        assert!(matches!(
            parse_decimal("1000000000000000000"),
            Err(NumberError::TooLarge(_))
        ));
        assert!(matches!(
            parse_decimal("1e18"),
            Err(NumberError::TooLarge(_))
        ));
        assert!(matches!(
            parse_decimal("1e999"),
            Err(NumberError::TooLarge(_))
        ));
        assert!(matches!(
            parse_decimal("0.0000000000001"),
            Err(NumberError::TooManyDecimals(_))
        ));
        assert!(matches!(
            parse_decimal("1234567890123456789012345678901234567890"),
            Err(NumberError::TooManyDigits(_))
        ));
        assert!(matches!(
            parse_decimal("99999999999999999.999999999999"),
            Err(NumberError::TooManyDigits(_))
        ));
    }
}

/// A decimal read exactly from a JSON number or string (serde), never through `f64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Exact(pub Decimal);

/// serde_json's `arbitrary_precision` hands numbers over as a one-entry map under this key.
const JSON_NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Written as `rust_decimal` writes it: a string with every digit of its scale.
impl serde::Serialize for Exact {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&self.0, serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Exact {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Exact, D::Error> {
        deserializer.deserialize_any(ExactVisitor)
    }
}

struct ExactVisitor;

impl<'de> serde::de::Visitor<'de> for ExactVisitor {
    type Value = Exact;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a decimal number (a JSON number or a string holding one)")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Exact, E> {
        parse_decimal(text).map(Exact).map_err(E::custom)
    }

    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Exact, E> {
        self.visit_str(&n.to_string())
    }

    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Exact, E> {
        self.visit_str(&n.to_string())
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Exact, E> {
        Err(E::custom(
            "a floating-point value cannot be read exactly; send the number as a string",
        ))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Exact, A::Error> {
        use serde::de::Error;
        match map.next_key::<String>()? {
            Some(key) if key == JSON_NUMBER_TOKEN => {
                let text: String = map.next_value()?;
                parse_decimal(&text).map(Exact).map_err(A::Error::custom)
            }
            _ => Err(A::Error::invalid_type(serde::de::Unexpected::Map, &self)),
        }
    }
}

impl utoipa::PartialSchema for Exact {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$"))
                    .examples(["1250000"]),
            )
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .description(Some("Exact decimal: a JSON number or a string in JSON-number grammar; |x| < 10^18, at most 12 decimals"))
            .into()
    }
}

impl utoipa::ToSchema for Exact {}
