//! Who is billed: industry, catalogue class and standing of an enterprise.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The industries the differential pricing notices name ("the eight"), and everything else.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Industry {
    Steel,
    Cement,
    ElectrolyticAluminum,
    Ferroalloy,
    CalciumCarbide,
    CausticSoda,
    YellowPhosphorus,
    ZincSmelting,
    Other,
}

impl Industry {
    pub const ALL: [Industry; 9] = [
        Industry::Steel,
        Industry::Cement,
        Industry::ElectrolyticAluminum,
        Industry::Ferroalloy,
        Industry::CalciumCarbide,
        Industry::CausticSoda,
        Industry::YellowPhosphorus,
        Industry::ZincSmelting,
        Industry::Other,
    ];

    pub fn as_str(self) -> &'static str {
        crate::names::name_of(&self)
    }

    /// The name the notices use.
    pub fn name_zh(self) -> &'static str {
        match self {
            Industry::Steel => "钢铁",
            Industry::Cement => "水泥",
            Industry::ElectrolyticAluminum => "电解铝",
            Industry::Ferroalloy => "铁合金",
            Industry::CalciumCarbide => "电石",
            Industry::CausticSoda => "烧碱",
            Industry::YellowPhosphorus => "黄磷",
            Industry::ZincSmelting => "锌冶炼",
            Industry::Other => "其他",
        }
    }

    pub fn parse(s: &str) -> Option<Industry> {
        crate::names::parse_name(s)
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// A set of industries, as tariff parameters name them (e.g. those exempt from a measure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IndustrySet(u16);

impl IndustrySet {
    pub fn insert(&mut self, industry: Industry) {
        self.0 |= 1 << industry.index();
    }

    pub fn contains(self, industry: Industry) -> bool {
        self.0 & (1 << industry.index()) != 0
    }

    pub fn iter(self) -> impl Iterator<Item = Industry> {
        Industry::ALL.into_iter().filter(move |i| self.contains(*i))
    }
}

impl FromIterator<Industry> for IndustrySet {
    fn from_iter<T: IntoIterator<Item = Industry>>(iter: T) -> Self {
        let mut set = IndustrySet::default();
        iter.into_iter().for_each(|i| set.insert(i));
        set
    }
}

/// Class of the enterprise's equipment in the 产业结构调整指导目录（2019年本）.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CatalogueClass {
    Encouraged,
    #[default]
    Permitted,
    Restricted,
    Eliminated,
}

impl CatalogueClass {
    pub const ALL: [CatalogueClass; 4] = [
        CatalogueClass::Encouraged,
        CatalogueClass::Permitted,
        CatalogueClass::Restricted,
        CatalogueClass::Eliminated,
    ];

    pub fn as_str(self) -> &'static str {
        crate::names::name_of(&self)
    }

    /// Restricted and eliminated capacity is what differential pricing targets.
    pub fn is_targeted(self) -> bool {
        matches!(
            self,
            CatalogueClass::Restricted | CatalogueClass::Eliminated
        )
    }
}

/// Red card: closed by law; yellow card: listed for rectification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Card {
    #[default]
    None,
    Yellow,
    Red,
}

impl Card {
    pub fn as_str(self) -> &'static str {
        crate::names::name_of(&self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Enterprise {
    pub id: String,
    pub name: Option<String>,
    pub industry: Industry,
    pub catalogue_class: CatalogueClass,
    /// Steel enterprise that missed its capacity-cut deadline (未按期完成化解过剩产能任务).
    pub capacity_cut_overdue: bool,
    pub card: Card,
}

/// A classification in force from a day within a bill's period (a registry decision taking
/// effect mid-period): the bill splits there, as at a change of rate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reclassification {
    pub from: chrono::NaiveDate,
    pub catalogue_class: CatalogueClass,
    pub capacity_cut_overdue: bool,
    pub card: Card,
}

impl Enterprise {
    /// The enterprise as classified by `change`.
    pub fn reclassified(&self, change: &Reclassification) -> Enterprise {
        Enterprise {
            catalogue_class: change.catalogue_class,
            capacity_cut_overdue: change.capacity_cut_overdue,
            card: change.card,
            ..self.clone()
        }
    }

    /// The class the enterprise is priced as: a steel enterprise overdue on its capacity
    /// cut is priced as eliminated (发改价格〔2016〕2803号; POLICY.md decision 2).
    pub fn priced_class(&self) -> CatalogueClass {
        if self.industry == Industry::Steel && self.capacity_cut_overdue {
            CatalogueClass::Eliminated
        } else {
            self.catalogue_class
        }
    }
}
