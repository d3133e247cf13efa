//! Compiles the one C file corekv needs: `src/engine/num/num.c`, Redis's number parsing and
//! printing on top of libc's `strtod`/`strtold`/`snprintf`. Rust has no 80-bit `long double`,
//! and INCRBYFLOAT's results are defined by it, so this part cannot be written in Rust.

fn main() {
    println!("cargo:rerun-if-changed=src/engine/num/num.c");
    println!("cargo:rerun-if-changed=build.rs");
    cc::Build::new()
        .file("src/engine/num/num.c")
        .warnings(true)
        .extra_warnings(true)
        .compile("corekv_num");
}
