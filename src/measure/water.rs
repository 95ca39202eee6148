//! 超定额累进加价: water above quota is charged extra, band by band, as multiples of the
//! base water price. Unlike the electricity tiers, this one is marginal.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{Adder, Basis, Measure, NotApplicable, Reader, Reason};
use crate::enterprise::{Enterprise, Industry};
use crate::tariff::value::Bracket;
use crate::tariff::EntryRef;

/// Metered water for the period. `quota_m3 > 0` (validated at the edge).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Water {
    pub m3: Decimal,
    pub quota_m3: Option<Decimal>,
    pub base_price: Option<Decimal>,
    pub meets_standard: Option<bool>,
}

/// One band's surcharge: `volume` m³ (of the whole period) at `adder.rate` yuan/m³.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    pub adder: Adder,
    pub volume: Decimal,
}

/// The inputs the water rule needs, checked once per bill.
#[derive(Debug, Clone, Copy)]
pub struct Excess {
    pub quota: Decimal,
    pub excess: Decimal,
    pub base_price: Decimal,
    /// Band volumes are shown to the precision the volumes were given in.
    pub dp: u32,
}

/// Whether the water rule can apply at all, whatever the date (decision 8).
pub fn excess(water: Option<&Water>) -> Result<Excess, NotApplicable> {
    let water = water.ok_or(NotApplicable::MissingInput("/water"))?;
    let meets = water
        .meets_standard
        .ok_or(NotApplicable::MissingInput("/water/meets_standard"))?;
    let quota = water
        .quota_m3
        .ok_or(NotApplicable::MissingInput("/water/quota_m3"))?;
    let base_price = water
        .base_price
        .ok_or(NotApplicable::MissingInput("/water/base_price"))?;
    if meets {
        return Err(NotApplicable::MeetsStandard);
    }
    if water.m3 <= quota {
        return Err(NotApplicable::WithinQuota);
    }
    Ok(Excess {
        quota,
        excess: water.m3 - quota,
        base_price,
        dp: water.m3.scale().max(quota.scale()),
    })
}

/// The bands in force on `date`, with the whole period's volume in each.
pub fn evaluate(
    reader: &mut Reader,
    enterprise: &Enterprise,
    excess: &Excess,
    date: NaiveDate,
) -> Result<Vec<Band>, NotApplicable> {
    let (entry_ref, brackets) = schedule(reader, enterprise.industry, date)?;
    let restriction = supply_restriction(reader, excess, date)?;
    let mut basis = Basis::of(entry_ref);
    if let Some(r) = restriction {
        basis.push(r);
    }
    bands(brackets, excess, basis, restriction.is_some())
        .ok_or(NotApplicable::Overflow("/water/m3"))
}

/// The bands for an industry on `date`: one schedule for every catalogue class, for the
/// industries on the tariff's water list only.
pub fn schedule<'t>(
    reader: &mut Reader<'t>,
    industry: Industry,
    date: NaiveDate,
) -> Result<(EntryRef, &'t [Bracket]), NotApplicable> {
    let slots = &reader.tariff.slots;
    let (schedule, listed) = (slots.water_schedule, slots.water_industries);
    let (entry_ref, entry) = reader
        .read(schedule, date)
        .ok_or(NotApplicable::NoWaterRule)?;
    let on_list = reader
        .read(listed, date)
        .is_some_and(|(_, e)| e.value.industries().contains(industry));
    if !on_list {
        return Err(NotApplicable::NotOnWaterList);
    }
    let brackets = entry.value.brackets().ok_or(NotApplicable::NoWaterRule)?;
    Ok((entry_ref, brackets))
}

/// The share of the quota from which supply is also restricted, when the excess reaches it.
fn supply_restriction(
    reader: &mut Reader,
    e: &Excess,
    date: NaiveDate,
) -> Result<Option<EntryRef>, NotApplicable> {
    let Some((entry_ref, entry)) =
        reader.read(reader.tariff.slots.water_supply_restricted_from, date)
    else {
        return Ok(None);
    };
    let Some(share) = entry.value.number() else {
        return Ok(None);
    };
    let from = e
        .quota
        .checked_mul(share)
        .ok_or(NotApplicable::Overflow("/water/quota_m3"))?;
    Ok((e.excess >= from).then_some(entry_ref))
}

/// Each band the excess reaches, resting on `basis` (the schedule, and the supply
/// restriction when it is reached). `None` when a volume or a rate overflows.
fn bands(
    brackets: &[Bracket],
    e: &Excess,
    basis: Basis,
    supply_restricted: bool,
) -> Option<Vec<Band>> {
    let mut out = Vec::with_capacity(brackets.len());
    for (i, bracket) in brackets.iter().enumerate() {
        let lower = e
            .quota
            .checked_mul(bracket.above.unwrap_or(Decimal::ZERO))?;
        if e.excess <= lower {
            break;
        }
        let upper = match brackets.get(i + 1).and_then(|b| b.above) {
            Some(share) => e.quota.checked_mul(share)?.min(e.excess),
            None => e.excess,
        };
        let rate = e.base_price.checked_mul(bracket.rate)?.normalize();
        let mut volume = (upper - lower).normalize();
        if volume.scale() < e.dp {
            volume.rescale(e.dp);
        }
        let reason = Reason::Water {
            band: i as u8 + 1,
            multiple: bracket.rate,
            supply_restricted,
        };
        let adder = Adder {
            measure: Measure::WaterProgressive,
            rate,
            reason,
            basis,
        };
        out.push(Band { adder, volume });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn xinzhou_normal() -> Vec<Bracket> {
        vec![
            Bracket {
                above: None,
                rate: d("0.5"),
            },
            Bracket {
                above: Some(d("0.2")),
                rate: d("1.0"),
            },
            Bracket {
                above: Some(d("0.4")),
                rate: d("2.0"),
            },
        ]
    }

    fn volumes(m3: &str) -> Vec<Decimal> {
        let e = Excess {
            quota: d("40000"),
            excess: d(m3) - d("40000"),
            base_price: d("4.20"),
            dp: 0,
        };
        bands(&xinzhou_normal(), &e, Basis::default(), false)
            .unwrap()
            .into_iter()
            .map(|band| band.volume)
            .collect()
    }

    #[test]
    fn bands_split_the_excess_at_20_and_40_percent() {
        assert_eq!(volumes("52000"), vec![d("8000"), d("4000")]);
        assert_eq!(volumes("48000"), vec![d("8000")]);
        assert_eq!(volumes("48001"), vec![d("8000"), d("1")]);
        assert_eq!(volumes("56000"), vec![d("8000"), d("8000")]);
        assert_eq!(volumes("56000.5"), vec![d("8000"), d("8000"), d("0.5")]);
        assert_eq!(volumes("40000.001"), vec![d("0.001")]);
    }

    #[test]
    fn the_rule_needs_every_input_and_a_failed_standard() {
        let water =
            |meets: Option<bool>, quota: Option<&str>, price: Option<&str>, m3: &str| Water {
                m3: d(m3),
                quota_m3: quota.map(d),
                base_price: price.map(d),
                meets_standard: meets,
            };
        assert_eq!(
            excess(None).unwrap_err(),
            NotApplicable::MissingInput("/water")
        );
        assert_eq!(
            excess(Some(&water(None, Some("1"), Some("1"), "2"))).unwrap_err(),
            NotApplicable::MissingInput("/water/meets_standard")
        );
        assert_eq!(
            excess(Some(&water(Some(false), None, Some("1"), "2"))).unwrap_err(),
            NotApplicable::MissingInput("/water/quota_m3")
        );
        assert_eq!(
            excess(Some(&water(Some(false), Some("1"), None, "2"))).unwrap_err(),
            NotApplicable::MissingInput("/water/base_price")
        );
        assert_eq!(
            excess(Some(&water(Some(true), Some("1"), Some("1"), "2"))).unwrap_err(),
            NotApplicable::MeetsStandard
        );
        assert_eq!(
            excess(Some(&water(Some(false), Some("2"), Some("1"), "2"))).unwrap_err(),
            NotApplicable::WithinQuota
        );
        assert!(excess(Some(&water(Some(false), Some("1"), Some("1"), "2"))).is_ok());
    }
}
