//! The previous year's assessed figures that select tiers and punitive bands.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Main crude-steel processes with a unit-energy limit in GB 21256-2013.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SteelProcess {
    Sintering,
    Pelletizing,
    Coking,
    BlastFurnace,
    Converter,
    ElectricArcFurnace,
}

impl SteelProcess {
    pub const ALL: [SteelProcess; 6] = [
        SteelProcess::Sintering,
        SteelProcess::Pelletizing,
        SteelProcess::Coking,
        SteelProcess::BlastFurnace,
        SteelProcess::Converter,
        SteelProcess::ElectricArcFurnace,
    ];

    pub fn as_str(self) -> &'static str {
        crate::names::name_of(&self)
    }
}

/// A set of steel processes (those over their limit, or not assessed for want of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Processes(u8);

impl Processes {
    pub fn insert(&mut self, process: SteelProcess) {
        self.0 |= 1 << process as u8;
    }

    pub fn union(self, other: Processes) -> Processes {
        Processes(self.0 | other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn len(self) -> u8 {
        self.0.count_ones() as u8
    }

    pub fn iter(self) -> impl Iterator<Item = SteelProcess> {
        SteelProcess::ALL
            .into_iter()
            .filter(move |p| self.0 & (1 << *p as u8) != 0)
    }

    /// The processes' names, joined by `, `.
    pub fn names(self) -> String {
        self.iter()
            .map(SteelProcess::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Electric arc furnaces have separate limits for ordinary and special steel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SteelGrade {
    #[default]
    Ordinary,
    Special,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProcessIntensity {
    pub process: SteelProcess,
    pub grade: SteelGrade,
    /// kgce/t; negative for converters, which recover energy.
    pub intensity: Decimal,
}

/// Clinker plants are judged on clinker electricity, grinding-only plants on cement electricity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CementPlant {
    Clinker,
    Grinding,
}

impl CementPlant {
    pub fn as_str(self) -> &'static str {
        crate::names::name_of(&self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CementAssessment {
    pub plant: CementPlant,
    pub commissioned: Option<NaiveDate>,
    /// Comparable comprehensive electricity consumption, kWh/t.
    pub kwh_per_t: Decimal,
}

/// Assessed unit-product energy consumption against its limit (单位产品能耗限额).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnergyIntensity {
    pub value: Decimal,
    /// Always > 0 (validated at the edge).
    pub limit: Decimal,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Assessment {
    pub year: Option<i32>,
    pub steel_processes: Vec<ProcessIntensity>,
    pub cement: Option<CementAssessment>,
    /// AC electricity per tonne of molten aluminium, kWh/t.
    pub aluminum_kwh_per_t: Option<Decimal>,
    pub energy_intensity: Option<EnergyIntensity>,
}

impl Assessment {
    /// 1 January of the year assessed: the given one, else the year before `period_year`.
    pub fn assessed_on(&self, period_year: i32) -> NaiveDate {
        let year = self.year.unwrap_or(period_year - 1);
        NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn is_empty(&self) -> bool {
        self.steel_processes.is_empty()
            && self.cement.is_none()
            && self.aluminum_kwh_per_t.is_none()
            && self.energy_intensity.is_none()
    }
}
