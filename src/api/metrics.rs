//! What operators count: requests by route, method and status with their latency, and bills
//! and batch records. Every label has a closed set of values, whatever clients send.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

use super::routes::Matched;
use super::AppState;

/// Latency buckets, from a tenth of a millisecond (a single bill) to a minute (a batch).
const LATENCY_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
    15.0, 60.0,
];

#[derive(Clone)]
pub struct Metrics {
    pub registry: Registry,
    pub bills: IntCounterVec,
    pub batch_records: IntCounterVec,
    pub simulations_cancelled: prometheus::IntCounter,
    /// Simulations answered, by outcome (`completed`, `invalid`, `cancelled`).
    pub simulations: IntCounterVec,
    /// Enterprises priced by completed simulations.
    pub simulated_enterprises: prometheus::IntCounter,
    /// Tariff reloads, by outcome (`ok`, `refused`).
    pub reloads: IntCounterVec,
    /// Bills stored in the ledger, by outcome (`new`, `replayed`, `batch`, `correction`).
    pub issued: IntCounterVec,
    /// Batches and simulations running now.
    pub heavy_in_flight: prometheus::IntGauge,
    /// Whole reads of the registry (the rest are brought up to date change by change).
    pub registry_whole_reads: prometheus::IntGauge,
    /// Memory held by kept populations, and how many were let go to make room.
    pub populations_kept_bytes: prometheus::IntGauge,
    pub populations_evicted: prometheus::IntCounter,
    requests: IntCounterVec,
    latency: HistogramVec,
}

impl Metrics {
    /// A batch's records, by outcome, and its bills by tariff.
    pub fn count_batch(&self, summary: &crate::batch::Summary, billed: &[(String, u64)]) {
        for (tariff, n) in billed {
            self.bills.with_label_values(&[tariff.as_str()]).inc_by(*n);
        }
        let records = &self.batch_records;
        records
            .with_label_values(&["billed"])
            .inc_by(summary.billed);
        records
            .with_label_values(&["failed"])
            .inc_by(summary.failed);
    }

    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let bills = IntCounterVec::new(
            Opts::new("tariffd_bills_priced_total", "Bills priced, by tariff"),
            &["tariff"],
        )?;
        let batch_records = IntCounterVec::new(
            Opts::new("tariffd_batch_records_total", "Batch records, by outcome"),
            &["outcome"],
        )?;
        let simulations_cancelled = prometheus::IntCounter::new(
            "tariffd_simulations_cancelled_total",
            "Simulations stopped because their client went away",
        )?;
        let simulations = IntCounterVec::new(
            Opts::new(
                "tariffd_simulations_total",
                "Simulations answered, by outcome",
            ),
            &["outcome"],
        )?;
        let simulated_enterprises = prometheus::IntCounter::new(
            "tariffd_simulated_enterprises_total",
            "Enterprises priced by completed simulations",
        )?;
        let reloads = IntCounterVec::new(
            Opts::new("tariffd_tariff_reloads_total", "Tariff reloads, by outcome"),
            &["outcome"],
        )?;
        let issued = IntCounterVec::new(
            Opts::new(
                "tariffd_ledger_bills_total",
                "Bills issued into the ledger, by outcome",
            ),
            &["outcome"],
        )?;
        let heavy_in_flight = prometheus::IntGauge::new(
            "tariffd_heavy_in_flight",
            "Batches and simulations running now",
        )?;
        let registry_whole_reads = prometheus::IntGauge::new(
            "tariffd_registry_whole_reads",
            "Times the whole registry was read since start (otherwise only the changes since)",
        )?;
        let populations_kept_bytes = prometheus::IntGauge::new(
            "tariffd_populations_kept_bytes",
            "Memory held by populations kept for simulations",
        )?;
        let populations_evicted = prometheus::IntCounter::new(
            "tariffd_populations_evicted_total",
            "Kept populations let go to make room for newer ones",
        )?;
        let labels = ["route", "method", "status"];
        let requests = IntCounterVec::new(
            Opts::new("tariffd_http_requests_total", "Requests answered"),
            &labels,
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "tariffd_http_requests_duration_seconds",
                "Time to the response head",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &labels,
        )?;
        registry.register(Box::new(bills.clone()))?;
        registry.register(Box::new(batch_records.clone()))?;
        registry.register(Box::new(simulations_cancelled.clone()))?;
        registry.register(Box::new(simulations.clone()))?;
        registry.register(Box::new(simulated_enterprises.clone()))?;
        registry.register(Box::new(reloads.clone()))?;
        registry.register(Box::new(issued.clone()))?;
        registry.register(Box::new(heavy_in_flight.clone()))?;
        registry.register(Box::new(registry_whole_reads.clone()))?;
        registry.register(Box::new(populations_kept_bytes.clone()))?;
        registry.register(Box::new(populations_evicted.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(Metrics {
            registry,
            bills,
            batch_records,
            simulations_cancelled,
            simulations,
            simulated_enterprises,
            reloads,
            issued,
            heavy_in_flight,
            registry_whole_reads,
            populations_kept_bytes,
            populations_evicted,
            requests,
            latency,
        })
    }

    fn observe(&self, route: &str, method: &Method, status: u16, seconds: f64) {
        let mut digits = itoa::Buffer::new();
        let labels = [route, method_label(method), digits.format(status)];
        self.requests.with_label_values(&labels).inc();
        self.latency.with_label_values(&labels).observe(seconds);
    }
}

/// Methods outside the standard set share one label.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 7] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ];
    KNOWN
        .iter()
        .find(|m| *m == method)
        .map_or("other", Method::as_str)
}

/// Middleware: counts and times every request, refusals included.
pub async fn record(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = request.method().clone();
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let response = next.call(request).await?;
    if let Some(state) = state {
        let route = route_label(&response);
        let status = response.status().as_u16();
        state
            .metrics
            .observe(&route, &method, status, started.elapsed().as_secs_f64());
    }
    Ok(response)
}

/// The pattern of the route that answered, or of the resource the path fell in (a
/// documentation page, a known path with another method), or `unmatched`: a closed set.
pub fn route_label<B>(response: &ServiceResponse<B>) -> std::borrow::Cow<'static, str> {
    let request = response.request();
    if let Some(Matched(path)) = request.extensions().get::<Matched>() {
        return (*path).into();
    }
    request
        .match_pattern()
        .map_or("unmatched".into(), std::borrow::Cow::Owned)
}
