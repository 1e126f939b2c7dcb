//! The `osscse` command-line tool.
fn main() {}
