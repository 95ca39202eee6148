//! The workbench's files under `ui/` are compiled into the binary (`include_dir!`), which on
//! stable Rust does not tell cargo about them: this makes a change to any of them rebuild.
//! Nothing is fetched or generated here.

fn main() {
    println!("cargo:rerun-if-changed=ui");
}
