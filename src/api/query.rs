//! Query strings, checked parameter by parameter so errors can name the parameter.

use std::collections::HashMap;

use actix_web::HttpRequest;
use chrono::NaiveDate;

use super::problem::{ApiError, FieldError};

pub struct Query {
    params: HashMap<String, String>,
    errors: Vec<FieldError>,
}

impl Query {
    /// Parses the query string, refusing parameters not in `known`.
    pub fn parse(request: &HttpRequest, known: &[&str]) -> Result<Query, ApiError> {
        let params: HashMap<String, String> =
            actix_web::web::Query::from_query(request.query_string())
                .map(|q: actix_web::web::Query<HashMap<String, String>>| q.into_inner())
                .map_err(|e| {
                    ApiError::BadRequest(format!("the query string cannot be read: {e}"))
                })?;
        let errors = params
            .keys()
            .filter(|k| !known.contains(&k.as_str()))
            .map(|k| {
                FieldError::query(
                    k.clone(),
                    format!("unknown parameter; known: {}", known.join(", ")),
                )
            })
            .collect();
        Ok(Query { params, errors })
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// Parses a parameter with `parse`, recording an error when it fails.
    pub fn parsed<T>(
        &mut self,
        name: &str,
        expected: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Option<T> {
        let text = self.params.get(name)?;
        let value = parse(text);
        if value.is_none() {
            self.errors.push(FieldError::query(
                name,
                format!("`{text}` is not {expected}"),
            ));
        }
        value
    }

    pub fn date(&mut self, name: &str) -> Option<NaiveDate> {
        self.parsed(name, "a date (YYYY-MM-DD)", |t| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()
        })
    }

    pub fn require<T>(&mut self, name: &str, value: Option<T>) -> Option<T> {
        if value.is_none() && !self.params.contains_key(name) {
            self.errors.push(FieldError::query(name, "is required"));
        }
        value
    }

    /// Every problem found, as one 422.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Invalid(self.errors))
        }
    }
}

/// Today, for look-ups that default to the current date.
pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}
