//! An enum's name on the wire is the one serde gives it (`rename_all`, `rename`): these read
//! it back, so that no name is written twice in hand tables beside the derive.

use serde::de::value::{Error, StrDeserializer};
use serde::{Deserialize, Serialize};

/// The wire name of a unit variant.
pub fn name_of<T: Serialize>(value: &T) -> &'static str {
    serde_variant::to_variant_name(value).expect("a unit variant has a name")
}

/// The unit variant a wire name names.
pub fn parse_name<'de, T: Deserialize<'de>>(name: &'de str) -> Option<T> {
    T::deserialize(StrDeserializer::<Error>::new(name)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enterprise::{CatalogueClass, Industry};

    #[test]
    fn names_are_serdes_and_read_back() {
        for industry in Industry::ALL {
            let json = serde_json::to_string(&industry).unwrap();
            assert_eq!(json, format!("\"{}\"", name_of(&industry)));
            assert_eq!(parse_name::<Industry>(name_of(&industry)), Some(industry));
        }
        assert_eq!(name_of(&CatalogueClass::Eliminated), "eliminated");
        assert_eq!(parse_name::<Industry>("Steel"), None);
        assert_eq!(parse_name::<Industry>(""), None);
    }
}
