//! Probing the server as an outsider would: raw requests with exact paths, one key per role,
//! and who may call what. Shared by the API tests and the `access` fuzz target.

use std::io::{Read, Write};
use std::net::TcpStream;

use tariffd::access::{Need, Role};

/// One key per role, and none.
pub const KEYS: [(&str, Option<Role>); 6] = [
    ("", None),
    ("reader-key", Some(Role::Reader)),
    ("biller-key", Some(Role::Biller)),
    ("analyst-key", Some(Role::Analyst)),
    ("registrar-key", Some(Role::Registrar)),
    ("admin-key", Some(Role::Admin)),
];

/// Whether a caller with `role` (or no key) may call a route that needs `need`.
pub fn may(need: Need, role: Option<Role>) -> bool {
    match (need, role) {
        (Need::Public, _) => true,
        (_, None) => false,
        (_, Some(Role::Admin)) | (Need::AnyKey, _) => true,
        (Need::Role(needed), Some(role)) => needed == role,
    }
}

/// Sends one raw request (the path exactly as given) to `address` and answers its status.
pub fn status_of(address: &str, method: &str, path: &str, key: &str) -> u16 {
    let mut stream = TcpStream::connect(address).unwrap();
    let auth = if key.is_empty() {
        String::new()
    } else {
        format!("Authorization: Bearer {key}\r\n")
    };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    std::str::from_utf8(&head[9..12]).unwrap().parse().unwrap()
}
