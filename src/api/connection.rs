//! The client's end of each connection, kept beside it so that long work (a simulation)
//! can notice a client that has gone away: HTTP/1 gives a handler no such signal until it
//! writes, and a simulation writes only at the end.

use std::any::Any;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use actix_web::dev::Extensions;
use actix_web::HttpRequest;

/// A duplicate of the connection's socket, used only to peek.
pub struct Peer(socket2::Socket);

/// `HttpServer::on_connect`: keeps the socket of a TCP connection.
pub fn on_connect(connection: &dyn Any, data: &mut Extensions) {
    if let Some(tcp) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() {
        if let Ok(socket) = socket2::SockRef::from(tcp).try_clone() {
            data.insert(Arc::new(Peer(socket)));
        }
    }
}

impl Peer {
    /// Whether the client closed or reset its end. Peeking takes nothing from the socket,
    /// and the socket is non-blocking (it shares its flags with the server's), so this
    /// never waits.
    fn gone(&self) -> bool {
        let mut byte = [MaybeUninit::uninit(); 1];
        match self.0.peek(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
        }
    }
}

/// Descriptors one connection holds: its socket and the `Peer` duplicate.
pub const DESCRIPTORS_PER_CONNECTION: u64 = 2;
/// Descriptors kept for everything else: the listener, the database, tariff files, the
/// runtime's own.
const RESERVED_DESCRIPTORS: u64 = 256;

/// The connections the process's descriptor limit carries, at most `wanted`: the soft limit
/// is first raised to the hard one, and a `wanted` past what it carries is lowered with a
/// warning (a connection accepted past it would fail, and with it whatever file the server
/// opens next).
pub fn connections_carried(wanted: usize) -> usize {
    let Ok(descriptors) = rlimit::increase_nofile_limit(u64::MAX) else {
        return wanted;
    };
    let carried = within_descriptors(wanted, descriptors);
    if carried < wanted {
        tracing::warn!(
            wanted,
            carried,
            descriptors,
            "server.max_connections is more than the descriptor limit (ulimit -n) carries at {DESCRIPTORS_PER_CONNECTION} a connection; lowered"
        );
    }
    carried
}

/// `wanted` connections, or fewer: as many as `descriptors` hold beside the reserve.
pub fn within_descriptors(wanted: usize, descriptors: u64) -> usize {
    let most = descriptors.saturating_sub(RESERVED_DESCRIPTORS) / DESCRIPTORS_PER_CONNECTION;
    wanted
        .min(usize::try_from(most).unwrap_or(usize::MAX))
        .max(1)
}

/// How often a running simulation looks for its client.
const WATCH_EVERY: Duration = Duration::from_millis(200);

/// Raises `cancel` when the request's client goes away; stops watching once nobody holds
/// `cancel` any more (the work is over).
pub fn watch(request: &HttpRequest, cancel: &Arc<AtomicBool>) {
    let Some(peer) = request.conn_data::<Arc<Peer>>().cloned() else {
        return;
    };
    let cancel: Weak<AtomicBool> = Arc::downgrade(cancel);
    actix_web::rt::spawn(async move {
        loop {
            actix_web::rt::time::sleep(WATCH_EVERY).await;
            let Some(cancel) = cancel.upgrade() else {
                return;
            };
            if peer.gone() {
                cancel.store(true, Ordering::Relaxed);
                return;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_lowered_to_what_the_descriptors_carry() {
        assert_eq!(within_descriptors(4096, 1024), 384);
        assert_eq!(within_descriptors(100, 1024), 100);
        assert_eq!(within_descriptors(4096, 100), 1);
        assert_eq!(within_descriptors(4096, 20_000), 4096);
    }
}
