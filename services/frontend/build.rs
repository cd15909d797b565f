//! Embeds the UI in the binary: every file of `assets/` is read, `index.html` gets its
//! content-hashed asset URLs, and each file is pre-compressed with brotli and gzip once, here,
//! so the server never compresses at request time.

use std::{
    error::Error,
    fmt::Write as _,
    fs,
    io::Write as _,
    path::{Path, PathBuf},
};

use sha2::{Digest, Sha256};

/// The page that links the others; it is served at `/` and never cached without revalidation.
const INDEX: &str = "index.html";

struct Source {
    name: String,
    bytes: Vec<u8>,
}

fn main() -> Result<(), Box<dyn Error>> {
    let assets_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    println!("cargo:rerun-if-changed={}", assets_dir.display());
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?).join("assets");
    fs::create_dir_all(&out_dir)?;

    let mut sources = read_sources(&assets_dir)?;
    let version = version_of(&sources);
    let base = format!("/assets/{version}");
    let preloads: String = sources
        .iter()
        .filter(|s| s.name.ends_with(".js") && s.name != "app.js")
        .map(|s| format!("<link rel=\"modulepreload\" href=\"{base}/{}\">\n", s.name))
        .collect();
    for source in &mut sources {
        if source.name == INDEX {
            let html = String::from_utf8(std::mem::take(&mut source.bytes))?;
            let html = html
                .replace("{{ASSET_BASE}}", &base)
                .replace("{{MODULE_PRELOADS}}\n", &preloads);
            source.bytes = html.into_bytes();
        }
    }
    if !sources.iter().any(|s| s.name == INDEX) {
        return Err(format!("{} has no {INDEX}", assets_dir.display()).into());
    }

    let mut table = String::new();
    writeln!(
        table,
        "/// The hash of every asset but `index.html`: the `{{version}}` in `/assets/{{version}}/…`."
    )?;
    writeln!(table, "pub const ASSET_VERSION: &str = {version:?};")?;
    writeln!(table, "/// Every embedded file.")?;
    writeln!(table, "pub static ASSETS: &[EmbeddedAsset] = &[")?;
    for source in &sources {
        let identity = out_dir.join(&source.name);
        fs::write(&identity, &source.bytes)?;
        let gzip = write_if_smaller(
            &out_dir,
            &source.name,
            "gz",
            &source.bytes,
            gzip(&source.bytes)?,
        )?;
        let brotli = write_if_smaller(
            &out_dir,
            &source.name,
            "br",
            &source.bytes,
            brotli(&source.bytes)?,
        )?;
        let etag = format!("\"{}\"", &hex(&Sha256::digest(&source.bytes))[..20]);
        writeln!(
            table,
            "    EmbeddedAsset {{ name: {:?}, content_type: {:?}, etag: {:?}, identity: include_bytes!({:?}), gzip: {}, brotli: {} }},",
            source.name,
            content_type(&source.name)?,
            etag,
            identity.display().to_string(),
            include_option(gzip),
            include_option(brotli),
        )?;
    }
    writeln!(table, "];")?;
    fs::write(
        PathBuf::from(std::env::var("OUT_DIR")?).join("embedded_assets.rs"),
        table,
    )?;
    Ok(())
}

fn read_sources(dir: &Path) -> Result<Vec<Source>, Box<dyn Error>> {
    let mut sources = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))? {
        let path = entry?.path();
        if !path.is_file() {
            return Err(format!("{} is not a file; assets/ is kept flat", path.display()).into());
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("{} has no UTF-8 name", path.display()))?
            .to_owned();
        println!("cargo:rerun-if-changed={}", path.display());
        sources.push(Source {
            name,
            bytes: fs::read(&path)?,
        });
    }
    sources.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(sources)
}

/// One hash over every asset that `index.html` links, so any change gives new URLs.
fn version_of(sources: &[Source]) -> String {
    let mut hasher = Sha256::new();
    for source in sources.iter().filter(|s| s.name != INDEX) {
        hasher.update(source.name.as_bytes());
        hasher.update([0]);
        hasher.update(&source.bytes);
    }
    hex(&hasher.finalize())[..12].to_owned()
}

fn content_type(name: &str) -> Result<&'static str, String> {
    let extension = name.rsplit('.').next().unwrap_or_default();
    Ok(match extension {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "json" | "webmanifest" => "application/manifest+json",
        "png" => "image/png",
        "ico" => "image/x-icon",
        _ => {
            return Err(format!(
                "assets/{name}: unknown file type; add it to content_type() in build.rs"
            ));
        }
    })
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    encoder.finish()
}

fn brotli(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
    Ok(out)
}

/// Keeps a compressed variant only when it saves bytes (images are often already compressed).
fn write_if_smaller(
    dir: &Path,
    name: &str,
    suffix: &str,
    original: &[u8],
    compressed: Vec<u8>,
) -> std::io::Result<Option<PathBuf>> {
    if compressed.len() >= original.len() {
        return Ok(None);
    }
    let path = dir.join(format!("{name}.{suffix}"));
    fs::write(&path, compressed)?;
    Ok(Some(path))
}

fn include_option(path: Option<PathBuf>) -> String {
    match path {
        Some(path) => format!("Some(include_bytes!({:?}))", path.display().to_string()),
        None => "None".to_owned(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
