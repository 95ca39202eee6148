#!/usr/bin/env bash
# The README's pictures of the workbench: each page in headless Chromium against a server on
# the bundled policy, copied here. Needs chromium and chromium-driver (Debian).
#
#   docs/screenshots/take.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --quiet
TARIFFD_BIN=target/debug/tariffd
. benches/server.sh
start_server 18769 admin
WORKBENCH_ADDRESS="http://127.0.0.1:18769" WORKBENCH_KEY="$key" cargo test --quiet --test api \
  -- --ignored --exact workbench::screenshots_of_the_bundled_policy
for page in tariffs bill whatif batch; do
  cp "target/browser/readme-$page.png" "docs/screenshots/$page.png"
done
