//! `POST /v1/exports`: a client's tables as an XLSX workbook or a CSV file, so any table the
//! service answered (a simulation's breakdowns, a bill's lines, a parameter's timeline) can be
//! taken to a meeting. The workbench's export buttons call it like any client.

use actix_web::http::header::{
    Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{web, HttpRequest, HttpResponse};

use super::body::read_body;
use super::problem::{ApiError, Problem};
use super::AppState;
use crate::export;
use crate::wire::export::{ExportBody, ExportFormat};
use crate::wire::json::parse_json;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Tables as a spreadsheet: XLSX (one sheet per table, a bold frozen header row, numbers as
/// numeric cells, yuan as `#,##0.00`) or CSV (one table, UTF-8 with a byte-order mark so
/// Excel shows Chinese). Text is never a formula: XLSX writes it as string cells, CSV puts
/// `'` before a cell that starts like one.
#[utoipa::path(
    post, path = "/v1/exports",
    tag = "exports",
    request_body(content = ExportBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The file, as an attachment", content(
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (String = "text/csv"),
        )),
        (status = 400, description = "An empty body, or malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad sheet, row or cell, each named by its pointer", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Every place for workbooks is taken, or the key holds its share; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_export(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&request, payload, state.limits.body_limit_bytes, &state).await?;
    let (format, name, tables) = parse_json::<ExportBody>(&body)?.into_tables()?;
    // A large workbook takes seconds of a core: on places of its own, not the batches'.
    let key = super::routes::Caller::of(&request);
    let permit = state.exports.take(key.as_deref(), "exports")?;
    let (content_type, extension, bytes) = match format {
        ExportFormat::Xlsx => {
            let bytes = web::block(move || {
                let _permit = permit;
                export::xlsx(&tables)
            })
            .await
            .map_err(|_| ApiError::Internal)?
            .map_err(|e| {
                tracing::error!(error = %e, "cannot write a workbook");
                ApiError::Internal
            })?;
            (XLSX, "xlsx", bytes)
        }
        ExportFormat::Csv => {
            drop(permit);
            ("text/csv; charset=utf-8", "csv", export::csv(&tables[0]))
        }
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(disposition(&name, extension))
        .insert_header(("x-content-type-options", "nosniff"))
        .body(bytes))
}

/// An attachment named in ASCII for old clients (others as `_`) and in UTF-8 (RFC 6266 and
/// 5987, percent-encoded by actix's own header type) for the rest, so a Chinese name survives.
fn disposition(name: &str, extension: &str) -> ContentDisposition {
    let ascii: String = name
        .chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ') {
                true => c,
                false => '_',
            },
        )
        .collect();
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(format!("{ascii}.{extension}")),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: format!("{name}.{extension}").into_bytes(),
            }),
        ],
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_chinese_name_survives_in_utf_8_beside_an_ascii_one() {
        assert_eq!(
            super::disposition("按行业 a", "csv").to_string(),
            "attachment; filename=\"___ a.csv\"; filename*=UTF-8''%E6%8C%89%E8%A1%8C%E4%B8%9A%20a.csv"
        );
    }
}
