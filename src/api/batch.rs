//! `POST /v1/bills/batch`: many bills, streamed in and out, one output record per input
//! record in input order, then a summary.

use actix_web::http::header;
use actix_web::rt::task::spawn_blocking;
use actix_web::web;
use actix_web::{HttpRequest, HttpResponse};
use tokio::sync::{mpsc, oneshot};

use super::body::{content_type, Blocking, Body};
use super::problem::{ApiError, Problem};
use super::query::Query;
use super::AppState;
use crate::batch::{self, stream, Context, Format, Upload, UPLOAD_TYPES};
use crate::ledger::held::Held;
use crate::ledger::Issuer;
use crate::wire::csv::{Lang, Table};
use crate::wire::view::Detail;

/// A Parquet or Arrow IPC file of the CSV layout's columns, as uploaded.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)] // documents the body; it is read as it streams
pub struct ColumnarFile(Vec<u8>);

/// Bill many enterprises in one streamed request.
///
/// Body: `application/x-ndjson` (one bill request per line, as for `POST /v1/bills`) or
/// `text/csv` (a header line naming columns in English or Chinese, then one flat row per
/// enterprise; columns in the README), optionally compressed (`Content-Encoding: gzip` or
/// `deflate`); or a Parquet or Arrow IPC file (`application/vnd.apache.parquet`,
/// `application/vnd.apache.arrow.file` or `.stream`) whose columns are the CSV layout's, read
/// whole within `batch.max_file_bytes` and answered as CSV unless `Accept` names NDJSON (its
/// rows are numbered as a CSV file's lines, the header being line 1). The response starts
/// before the upload ends, in the input's format unless
/// `Accept` names the other: NDJSON `{"line": n, "bill": {…}}` or `{"line": n,
/// "enterprise_id"?, "error": {problem}}` per input line, then `{"summary": {"lines",
/// "billed", "failed", "surcharge", "total"}}`; CSV one row per record (the enterprise, its
/// kWh and m³, each measure's applied rate beside its amount, the totals; a failed row keeps
/// the enterprise id), then a summary row holding every numeric column's sum. A bad record
/// never fails the batch. An upload that breaks off, goes quiet, trickles or runs out of time
/// ends the answer with an error record saying why, in place of the summary.
#[utoipa::path(
    post, path = "/v1/bills/batch",
    tag = "bills",
    request_body(description = "NDJSON bill requests, CSV rows, or a Parquet or Arrow IPC file of the CSV layout's columns", content(
        (String = "application/x-ndjson"),
        (String = "text/csv"),
        (ColumnarFile = "application/vnd.apache.parquet"),
        (ColumnarFile = "application/vnd.apache.arrow.file"),
        (ColumnarFile = "application/vnd.apache.arrow.stream"),
    )),
    params(
        ("detail" = Option<String>, Query, description = "`totals`, `lines` (default: line items with their basis) or `full` (with explanations and traces)"),
        ("validate_only" = Option<bool>, Query, description = "Check every record without pricing it: `{\"line\", \"valid\": true}` or an error record"),
        ("Content-Encoding" = Option<String>, Header, description = "`gzip` or `deflate` for a compressed body (decompressed within the same limits)"),
        ("lang" = Option<String>, Query, description = "CSV output: `en` (default) or `zh`, the language of the header and status words", example = "zh"),
        ("bom" = Option<bool>, Query, description = "CSV output: start with a UTF-8 byte-order mark, so Excel shows Chinese (default false)"),
    ),
    responses(
        (status = 200, description = "One record per input record, then the summary, in the format of the input", content(
            (String = "application/x-ndjson"),
            (String = "text/csv"),
        )),
        (status = 400, description = "An empty body: a batch of nothing", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Every heavy place is taken, or the key holds its share; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "A Parquet or Arrow file over `batch.max_file_bytes`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither NDJSON, CSV, Parquet nor Arrow IPC", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad query or CSV header; a Parquet or Arrow file that cannot be read within its limits (its codec, encoding, a column's type, sizes it claims, a schema nested past 16 groups, more than `batch.max_decoded_bytes` decoded, compressed Arrow buffers), naming why", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_batch(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    run(request, payload, state, None).await
}

/// Runs a batch; with an `issuer`, every bill is stored in the ledger before it is sent.
pub async fn run(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    issuer: Option<Issuer>,
) -> Result<HttpResponse, ApiError> {
    let mut query = Query::parse(&request, &["detail", "validate_only", "lang", "bom"])?;
    let detail = query
        .parsed("detail", "`totals`, `lines` or `full`", Detail::parse)
        .unwrap_or_default();
    let validate_only = query
        .parsed("validate_only", "true or false", |v| v.parse::<bool>().ok())
        .unwrap_or(false);
    let table = Table {
        lang: query
            .parsed("lang", "`en` or `zh`", Lang::parse)
            .unwrap_or_default(),
        bom: query
            .parsed("bom", "true or false", |v| v.parse::<bool>().ok())
            .unwrap_or(false),
    };
    query.finish()?;
    let upload = upload_of(&request)?;
    let output = output_format(&request).unwrap_or(upload.records());
    let payload = Body::new(&request, payload.into_inner(), &state.limits)?;
    let permit = state.heavy_permit(&request, "batches")?;
    let context = Context {
        registry: state.registry_now().await,
        tariffs: state.tariffs.current(),
        format: upload.records(),
        output,
        detail,
        validate_only,
        table,
        issuer,
    };
    let input = Blocking::pump(payload).map(|piece| piece.map_err(Stop::Input));
    let (opened_tx, opened) = oneshot::channel();
    let (tx, rx) = mpsc::channel(8);
    let (limits, metrics) = (state.batch_limits, state.metrics.clone());
    let (database, runtime) = (state.database.clone(), tokio::runtime::Handle::current());
    // One blocking thread per batch runs the streaming loop; the permit bounds them.
    spawn_blocking(move || {
        let _permit = permit;
        let records = match stream::open(upload, limits, input) {
            Ok(records) => records,
            Err(Stop::Input(error)) => return drop(opened_tx.send(Err(error))),
            Err(Stop::ClientGone) => return,
        };
        let _ = opened_tx.send(Ok(()));
        // Stored before sent: a bill the client holds is in the ledger. Issued bills are
        // stored in groups (see `Held`), their output held with them.
        let mut held = Held::default();
        let mut answered = 0u64;
        let pass_on = |held: &mut Held| {
            let (pieces, stored) = runtime
                .block_on(held.store(&database))
                .map_err(|e| Stop::Input(e.into()))?;
            metrics.issued.with_label_values(&["batch"]).inc_by(stored);
            pieces.into_iter().try_for_each(|piece| {
                let piece: Result<_, std::convert::Infallible> = Ok(piece);
                tx.blocking_send(piece).map_err(|_| Stop::ClientGone)
            })
        };
        let sent = batch::bill(context, records, |bytes, part| {
            answered += part.summary.lines;
            metrics.count_batch(&part.summary, &part.billed_by_tariff);
            if held.hold(part.issued, bytes) {
                pass_on(&mut held)
            } else {
                Ok(())
            }
        });
        // What was priced before the end (or a break in the upload) is stored and sent.
        let sent = match sent {
            Err(Stop::ClientGone) => Err(Stop::ClientGone),
            sent => pass_on(&mut held).and(sent.map(drop)),
        };
        if let Err(Stop::Input(error)) = sent {
            tracing::warn!(
                ?error,
                "batch upload broke off, went quiet or could not be stored; the output ends with why, not a summary"
            );
            // Lines are counted from the header's (line 1) in CSV, from 1 in NDJSON.
            let line = answered + 1 + u64::from(upload.records() == Format::Csv);
            let _ = tx.blocking_send(Ok(batch::broken_off(output, &table, line, error)));
        }
    });
    // A bad CSV header (or none) is refused before the answer starts.
    opened.await.map_err(|_| ApiError::Internal)??;
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Ok(HttpResponse::Ok()
        .content_type(output.content_type())
        .streaming(body))
}

/// Why a batch stopped early.
enum Stop {
    /// The upload broke off, went quiet, or (before the first record) had a bad header.
    Input(ApiError),
    /// The client stopped reading the answer.
    ClientGone,
}

impl From<ApiError> for Stop {
    fn from(error: ApiError) -> Stop {
        Stop::Input(error)
    }
}

/// The output format an `Accept` header names (the first batch format it lists), if any.
fn output_format(request: &HttpRequest) -> Option<Format> {
    let accept = request.headers().get(header::ACCEPT)?.to_str().ok()?;
    accept.split(',').find_map(Format::from_content_type)
}

fn upload_of(request: &HttpRequest) -> Result<Upload, ApiError> {
    let content_type = content_type(request);
    Upload::from_content_type(content_type).ok_or_else(|| {
        ApiError::UnsupportedMediaType(format!(
            "`{content_type}` is not a batch format; send {UPLOAD_TYPES}"
        ))
    })
}
