//! `POST /v1/bills/batch`: many bills, streamed in and out, one output record per input
//! record in input order, then a summary.

use std::collections::VecDeque;
use std::sync::Arc;

use actix_web::rt::task::{spawn_blocking, JoinHandle};
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{HttpRequest, HttpResponse};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::body::{content_type, Body};
use super::problem::{ApiError, Problem};
use super::query::Query;
use super::AppState;
use crate::batch::{
    ready_chunks, ChunkOutput, Context, Format, Record, Splitter, Summary, CHUNK_RECORDS,
};
use crate::wire::csv::Columns;
use crate::wire::view::Detail;

type Sender = mpsc::Sender<Result<Bytes, actix_web::Error>>;

/// Bill many enterprises in one streamed request.
///
/// Body: `application/x-ndjson` (one bill request per line, as for `POST /v1/bills`) or
/// `text/csv` (a header line, then one flat row per enterprise; columns in the README).
/// `Content-Encoding: gzip` is accepted. The response, in the same format, starts before
/// the upload ends: NDJSON `{"line": n, "bill": {…}}` or `{"line": n, "error": {problem}}`
/// per input line, then `{"summary": {"lines", "billed", "failed", "surcharge", "total"}}`.
/// A bad record never fails the batch. A response without its summary was cut off.
#[utoipa::path(
    post, path = "/v1/bills/batch",
    tag = "bills",
    request_body(content = String, description = "NDJSON bill requests, or CSV rows", content_type = "application/x-ndjson"),
    params(
        ("detail" = Option<String>, Query, description = "`totals`, `lines` (default: line items with their basis) or `full` (with explanations and traces)"),
        ("validate_only" = Option<bool>, Query, description = "Check every record without pricing it: `{\"line\", \"valid\": true}` or an error record"),
    ),
    responses(
        (status = 200, description = "One record per input record, then the summary", content_type = "application/x-ndjson", body = String),
        (status = 429, description = "Too many batches and simulations running; see `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither NDJSON nor CSV", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad query or CSV header", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_batch(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut query = Query::parse(&request, &["detail", "validate_only"])?;
    let detail = query
        .parsed("detail", "`totals`, `lines` or `full`", Detail::parse)
        .unwrap_or_default();
    let validate_only = query
        .parsed("validate_only", "true or false", |v| v.parse::<bool>().ok())
        .unwrap_or(false);
    query.finish()?;
    let format = format_of(&request)?;
    let mut payload = Body::new(
        &request,
        payload.into_inner(),
        state.limits.body_idle_timeout,
    )?;
    let permit = state.heavy_permit("batches")?;
    let limits = state.batch_limits;
    let (columns, splitter, rest) = match format {
        Format::Ndjson => (None, Splitter::new(limits, 1), Bytes::new()),
        Format::Csv => {
            let (header, rest) = read_header(&mut payload, limits.max_line_bytes).await?;
            (
                Some(Columns::from_header(&header)?),
                Splitter::new(limits, 2),
                rest,
            )
        }
    };
    let context = Arc::new(Context {
        tariffs: state.tariffs.current(),
        format,
        detail,
        columns,
        validate_only,
    });
    let (tx, rx) = mpsc::channel(8);
    actix_web::rt::spawn(stream_batch(
        context,
        splitter,
        rest,
        payload,
        tx,
        Run {
            metrics: state.metrics.clone(),
            _permit: permit,
        },
    ));
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .streaming(body))
}

fn format_of(request: &HttpRequest) -> Result<Format, ApiError> {
    let content_type = content_type(request);
    Format::from_content_type(content_type).ok_or_else(|| {
        ApiError::UnsupportedMediaType(format!(
            "`{content_type}` is not a batch format; send application/x-ndjson or text/csv"
        ))
    })
}

/// Reads up to the end of the CSV header line; returns the header and what followed it.
async fn read_header(payload: &mut Body, max: usize) -> Result<(Bytes, Bytes), ApiError> {
    let mut buffer = BytesMut::new();
    loop {
        if let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let header = buffer.split_to(end + 1).freeze();
            return Ok((header.slice(..end), buffer.freeze()));
        }
        if buffer.len() > max {
            return Err(ApiError::field(
                "/",
                "the CSV header line is over the line length limit",
            ));
        }
        match payload.next().await {
            Some(Ok(chunk)) => buffer.extend_from_slice(&chunk),
            Some(Err(e)) => return Err(e.into()),
            None if buffer.is_empty() => return Err(ApiError::EmptyBody),
            None => return Ok((buffer.freeze(), Bytes::new())),
        }
    }
}

/// What a running batch holds besides its data.
struct Run {
    metrics: super::Metrics,
    /// Held until the batch ends, however it ends.
    _permit: tokio::sync::OwnedSemaphorePermit,
}

/// Reads, prices (on the blocking pool, a few chunks at a time) and sends in order. Stops
/// quietly when the client goes away; a broken upload ends the output without a summary.
async fn stream_batch(
    context: Arc<Context>,
    mut splitter: Splitter,
    rest: Bytes,
    mut payload: Body,
    tx: Sender,
    run: Run,
) {
    let metrics = &run.metrics;
    let in_flight_max = 2 * std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut in_flight: VecDeque<JoinHandle<ChunkOutput>> = VecDeque::new();
    let mut records: Vec<Record> = Vec::with_capacity(CHUNK_RECORDS);
    let mut summary = Summary::default();
    if tx.send(Ok(context.preamble())).await.is_err() {
        return;
    }
    splitter.feed(rest, &mut records);
    loop {
        let done = match payload.next().await {
            Some(Ok(bytes)) => {
                splitter.feed(bytes, &mut records);
                false
            }
            Some(Err(error)) => {
                tracing::warn!(
                    ?error,
                    "batch upload broke off or went quiet; the output ends without a summary"
                );
                return;
            }
            None => {
                splitter.finish(&mut records);
                true
            }
        };
        for chunk in ready_chunks(&mut records, done) {
            let context = context.clone();
            in_flight.push_back(spawn_blocking(move || context.price_chunk(&chunk)));
            if in_flight.len() >= in_flight_max
                && !send_next(&mut in_flight, &mut summary, &tx, metrics).await
            {
                return;
            }
        }
        // Whatever is priced goes out now, not only when the queue is full.
        while in_flight.front().is_some_and(|h| h.is_finished()) {
            if !send_next(&mut in_flight, &mut summary, &tx, metrics).await {
                return;
            }
        }
        if done {
            break;
        }
    }
    while !in_flight.is_empty() {
        if !send_next(&mut in_flight, &mut summary, &tx, metrics).await {
            return;
        }
    }
    let _ = tx.send(Ok(context.summary_record(&summary))).await;
}

/// Sends the oldest chunk's output; false when the batch must stop.
async fn send_next(
    in_flight: &mut VecDeque<JoinHandle<ChunkOutput>>,
    summary: &mut Summary,
    tx: &Sender,
    metrics: &super::Metrics,
) -> bool {
    let Some(next) = in_flight.pop_front() else {
        return true;
    };
    match next.await {
        Ok(output) => {
            summary.add(&output.summary);
            metrics
                .batch_records
                .with_label_values(&["billed"])
                .inc_by(output.summary.billed);
            metrics
                .batch_records
                .with_label_values(&["failed"])
                .inc_by(output.summary.failed);
            tx.send(Ok(output.bytes)).await.is_ok()
        }
        Err(error) => {
            tracing::error!(%error, "a batch chunk failed; the output ends without a summary");
            false
        }
    }
}
