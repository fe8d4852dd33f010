// libFuzzer target: reading a manifest (fuzz/run.sh). Any bytes give a manifest or an error that names
// the file; a manifest never lists a file name that could leave the export folder.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let node = try? JSONParser.parse(bytes) else { return 0 }
    do {
        let manifest = try Manifest(node: node, fingerprint: "", file: "manifest.json")
        for file in manifest.files {
            precondition(!file.name.isEmpty && !file.name.contains("/") && !file.name.contains("\\")
                         && !file.name.contains("..") && !file.name.hasPrefix("."), "unsafe file name")
            precondition(!file.name.unicodeScalars.contains { TextSafety.isControl($0) }, "a control character in a file name")
            precondition(file.rows >= 0, "negative row count")
        }
        // The id becomes a folder name; the name goes into mail headers.
        precondition(OrganisationID.isValid(manifest.organisationID), "organisation id")
        precondition(!(manifest.organisationName ?? "").unicodeScalars.contains { TextSafety.isControl($0) }, "organisation name")
    } catch {
        precondition(error.issue.file == "manifest.json", "a manifest error names the file")
    }
    return 0
}
