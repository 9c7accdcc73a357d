//! Rebuilds when anything under `responses/` changes: the folder is compiled into the binary
//! (`include_dir!`), and without this a file added to it is missed by an incremental build.

fn main() {
    println!("cargo:rerun-if-changed=responses");
}
