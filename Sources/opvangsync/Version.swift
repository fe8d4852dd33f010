/// The version of opvangsync, printed by `--version`. `make deb` reads it from this line, so the
/// package's version and the binary's are the same.
let opvangsyncVersion = "1.0.0"
