//! The parameter paths the engine reads, with the shape and unit each must have.
//!
//! A tariff file may only set paths listed here: a misspelt path would otherwise be
//! silently ignored and the bill priced without it.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::assessment::CementPlant;
use crate::enterprise::{CatalogueClass, Industry};

/// What a parameter's values must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A price adder ≥ 0, or `"none"` where no adder is in force.
    Rate,
    /// A limit > 0 (or any sign where energy can be recovered).
    Limit { may_be_negative: bool },
    /// A calendar date.
    Date,
    /// A list of industry names.
    Industries,
    /// How several electricity adders on one kWh combine: `max` or `sum`.
    Combination,
    /// Brackets `[{rate}, {above, rate}, …]`, or (where allowed) a stepped formula.
    Schedule { stepped_allowed: bool },
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub kind: Kind,
    pub unit: &'static str,
    pub about: &'static str,
    /// The parameter's name in the notices' terms, for people who search by it.
    pub name_zh: String,
}

pub const COMBINATION: &str = "electricity.combination";
pub const DIFFERENTIAL_INDUSTRIES: &str = "electricity.differential.industries";
pub const STEEL_SCHEDULE: &str = "electricity.tiered.steel.schedule";
pub const CEMENT_SCHEDULE: &str = "electricity.tiered.cement.schedule";
pub const CEMENT_NEW_PLANTS_FROM: &str = "electricity.tiered.cement.new_plants_from";
pub const ALUMINUM_SCHEDULE: &str = "electricity.tiered.electrolytic_aluminum.schedule";
pub const PUNITIVE_WITHIN_DOUBLE: &str = "electricity.punitive.within_double";
pub const PUNITIVE_OVER_DOUBLE: &str = "electricity.punitive.over_double";
pub const PUNITIVE_EXEMPT: &str = "electricity.punitive.exempt_industries";
pub const WATER_INDUSTRIES: &str = "water.progressive.industries";
pub const WATER_SCHEDULE: &str = "water.progressive.schedule";
pub const WATER_SUPPLY_RESTRICTED_FROM: &str = "water.progressive.supply_restricted_from";

/// Parameters chosen by the assessment year (read on 1 January of it), not by the billing
/// day: they never split a bill.
const CHOSEN_BY_ASSESSMENT_YEAR: [&str; 1] = [ALUMINUM_SCHEDULE];

/// Whether the parameter at `path` is read on 1 January of the assessment year.
pub fn chosen_by_assessment_year(path: &str) -> bool {
    CHOSEN_BY_ASSESSMENT_YEAR.contains(&path)
}

/// Steel process limits; the electric arc furnace has a second one for special steel.
pub const STEEL_LIMIT_NAMES: [&str; 7] = [
    "sintering",
    "pelletizing",
    "coking",
    "blast_furnace",
    "converter",
    "electric_arc_furnace",
    "electric_arc_furnace_special",
];

/// `electricity.differential.<industry|general>.<restricted|eliminated>`.
pub fn differential(industry: Option<Industry>, class: CatalogueClass) -> String {
    let group = industry.map_or("general", Industry::as_str);
    format!("electricity.differential.{group}.{}", class.as_str())
}

pub fn steel_limit(name: &str) -> String {
    format!("electricity.tiered.steel.limits.{name}")
}

/// `new` is for plants commissioned on or after `new_plants_from`.
pub fn cement_limit(plant: CementPlant, new: bool) -> String {
    let age = if new { "new" } else { "existing" };
    format!("electricity.tiered.cement.limits.{}.{age}", plant.as_str())
}

pub fn spec(path: &str) -> Option<&'static Spec> {
    SCHEMA.get(path)
}

pub fn paths() -> impl Iterator<Item = &'static str> {
    SCHEMA.keys().map(String::as_str)
}

/// The known paths closest to a misspelt one, best first.
pub fn closest(path: &str, n: usize) -> Vec<&'static str> {
    let mut scored: Vec<(f64, &str)> = paths()
        .map(|p| (strsim::jaro_winkler(path, p), p))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(n).map(|(_, p)| p).collect()
}

static SCHEMA: LazyLock<BTreeMap<String, Spec>> = LazyLock::new(|| {
    let mut s = BTreeMap::new();
    let mut add = |path: String, kind: Kind, unit: &'static str, about: &'static str| {
        let name_zh = name_zh(&path);
        let spec = Spec {
            kind,
            unit,
            about,
            name_zh,
        };
        s.insert(path, spec);
    };
    add(
        COMBINATION.into(),
        Kind::Combination,
        "",
        "how adders on one kWh combine: max (就高不重复) or sum",
    );
    add(
        DIFFERENTIAL_INDUSTRIES.into(),
        Kind::Industries,
        "",
        "industries under differential pricing",
    );
    for class in [CatalogueClass::Restricted, CatalogueClass::Eliminated] {
        add(
            differential(None, class),
            Kind::Rate,
            "yuan/kWh",
            "differential adder, any listed industry",
        );
        for industry in Industry::ALL.into_iter().filter(|i| *i != Industry::Other) {
            add(
                differential(Some(industry), class),
                Kind::Rate,
                "yuan/kWh",
                "differential adder for this industry",
            );
        }
    }
    let schedule = Kind::Schedule {
        stepped_allowed: false,
    };
    add(
        STEEL_SCHEDULE.into(),
        schedule,
        "yuan/kWh",
        "steel tiers by number of processes over their limit",
    );
    for name in STEEL_LIMIT_NAMES {
        let kind = Kind::Limit {
            may_be_negative: name == "converter",
        };
        add(
            steel_limit(name),
            kind,
            "kgce/t",
            "GB 21256-2013 process energy limit (限定值)",
        );
    }
    add(
        CEMENT_SCHEDULE.into(),
        schedule,
        "yuan/kWh",
        "cement tiers by comprehensive electricity as a multiple of the limit",
    );
    for plant in [CementPlant::Clinker, CementPlant::Grinding] {
        for new in [false, true] {
            add(
                cement_limit(plant, new),
                Kind::Limit {
                    may_be_negative: false,
                },
                "kWh/t",
                "GB 16780-2012 comparable electricity limit",
            );
        }
    }
    add(
        CEMENT_NEW_PLANTS_FROM.into(),
        Kind::Date,
        "",
        "plants commissioned on or after this date use the new limits",
    );
    add(
        ALUMINUM_SCHEDULE.into(),
        Kind::Schedule {
            stepped_allowed: true,
        },
        "yuan/kWh",
        "electrolytic aluminium tiers by AC electricity per tonne of molten aluminium (kWh/t)",
    );
    add(
        PUNITIVE_WITHIN_DOUBLE.into(),
        Kind::Rate,
        "yuan/kWh",
        "punitive adder, energy use over the limit by at most 100%",
    );
    add(
        PUNITIVE_OVER_DOUBLE.into(),
        Kind::Rate,
        "yuan/kWh",
        "punitive adder, energy use over the limit by more than 100%",
    );
    add(
        PUNITIVE_EXEMPT.into(),
        Kind::Industries,
        "",
        "industries punitive pricing does not apply to",
    );
    add(
        WATER_INDUSTRIES.into(),
        Kind::Industries,
        "",
        "industries the progressive water surcharge applies to",
    );
    add(
        WATER_SCHEDULE.into(),
        schedule,
        "× base water price",
        "multiples of the base price by band of excess over quota (a share of it); a band starts at its share",
    );
    add(
        WATER_SUPPLY_RESTRICTED_FROM.into(),
        Kind::Limit {
            may_be_negative: false,
        },
        "share of quota",
        "an excess over quota of at least this share also restricts or cuts supply (warning)",
    );
    s
});

/// The Chinese name of the parameter at `path`: fixed, or made of its parts (industry and
/// class, steel process, cement plant and age).
fn name_zh(path: &str) -> String {
    let fixed = match path {
        COMBINATION => "加价叠加方式（就高不重复）",
        DIFFERENTIAL_INDUSTRIES => "实行差别电价的行业",
        STEEL_SCHEDULE => "钢铁阶梯电价加价标准",
        CEMENT_SCHEDULE => "水泥阶梯电价加价标准",
        CEMENT_NEW_PLANTS_FROM => "水泥新建企业限额适用投产日",
        ALUMINUM_SCHEDULE => "电解铝阶梯电价加价标准",
        PUNITIVE_WITHIN_DOUBLE => "惩罚性电价加价（超限额一倍以内）",
        PUNITIVE_OVER_DOUBLE => "惩罚性电价加价（超限额一倍以上）",
        PUNITIVE_EXEMPT => "不执行惩罚性电价的行业",
        WATER_INDUSTRIES => "实行超定额累进加价的行业",
        WATER_SCHEDULE => "超定额累进加价倍数",
        WATER_SUPPLY_RESTRICTED_FROM => "限制或停止供水的超定额比例",
        _ => "",
    };
    if !fixed.is_empty() {
        return fixed.to_string();
    }
    let parts: Vec<&str> = path.split('.').collect();
    match parts[..] {
        ["electricity", "differential", group, class] => {
            let industry = Industry::parse(group).map_or("各行业", Industry::name_zh);
            let class = if class == "restricted" {
                "限制类"
            } else {
                "淘汰类"
            };
            format!("{industry}{class}差别电价加价")
        }
        ["electricity", "tiered", "steel", "limits", process] => {
            let at = STEEL_LIMIT_NAMES.iter().position(|n| *n == process);
            let process = at.map_or(process, |i| STEEL_PROCESSES_ZH[i]);
            format!("钢铁{process}工序能耗限定值")
        }
        ["electricity", "tiered", "cement", "limits", plant, age] => {
            let plant = if plant == "clinker" {
                "熟料"
            } else {
                "粉磨"
            };
            let age = if age == "new" { "新建" } else { "现有" };
            format!("{age}水泥{plant}企业可比电耗限定值")
        }
        _ => String::new(),
    }
}

/// `STEEL_LIMIT_NAMES` as the standard names the processes.
const STEEL_PROCESSES_ZH: [&str; 7] = [
    "烧结",
    "球团",
    "焦化",
    "高炉",
    "转炉",
    "电炉",
    "电炉（特钢）",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builder_names_a_known_path() {
        assert!(spec(&differential(
            Some(Industry::Steel),
            CatalogueClass::Eliminated
        ))
        .is_some());
        assert!(spec(&differential(None, CatalogueClass::Restricted)).is_some());
        assert!(spec(&differential(
            Some(Industry::Other),
            CatalogueClass::Restricted
        ))
        .is_none());
        assert!(spec(&cement_limit(CementPlant::Grinding, true)).is_some());
        assert!(spec(&steel_limit("converter")).is_some());
    }

    #[test]
    fn every_parameter_has_a_chinese_name_of_its_own() {
        let mut names: Vec<&str> = SCHEMA.values().map(|s| s.name_zh.as_str()).collect();
        assert!(names.iter().all(|n| !n.is_empty()), "{names:?}");
        names.sort();
        names.dedup();
        assert_eq!(names.len(), SCHEMA.len());
        assert_eq!(
            spec("electricity.differential.steel.eliminated")
                .unwrap()
                .name_zh,
            "钢铁淘汰类差别电价加价"
        );
    }

    #[test]
    fn suggests_the_path_that_was_meant() {
        assert_eq!(
            closest("electricity.differential.steel.eliminatd", 1),
            vec!["electricity.differential.steel.eliminated"]
        );
    }
}

#[cfg(test)]
mod capacity {
    #[test]
    fn every_known_path_fits_a_parameter_set() {
        assert!(super::paths().count() <= crate::tariff::ParamSet::CAPACITY);
    }
}
