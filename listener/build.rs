//! Tells cargo that linking godo depends on `godo.symbol-order`: `cargo build-godo` passes that
//! file to the linker (see `.cargo/config.toml`), and without this line a new order would only
//! take effect at the next change to the code.
fn main() {
    println!("cargo::rerun-if-changed=godo.symbol-order");
}
