//! Build contexts as in-memory tar archives: the repository filtered by `.dockerignore` (the
//! `--hermetic` path), or a few generated files (the scratch fast path).
//!
//! Archives are deterministic (sorted entries, fixed owner and time) so that the same inputs
//! give the same bytes, and their digest can tell whether an image needs rebuilding.

use std::path::Path;

use anyhow::Context;

/// The modification time of every entry: fixed, so the archive depends only on content.
const FIXED_MTIME: u64 = 1;

/// One entry of a build context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    File {
        path: String,
        mode: u32,
        contents: Vec<u8>,
    },
    Dir {
        path: String,
        mode: u32,
    },
    Symlink {
        path: String,
        target: String,
    },
}

impl Entry {
    fn path(&self) -> &str {
        match self {
            Entry::File { path, .. } | Entry::Dir { path, .. } | Entry::Symlink { path, .. } => {
                path
            }
        }
    }
}

/// Packs `entries` into an uncompressed tar, sorted by path, owned by root, with a fixed time.
pub fn tar_of(entries: &[Entry]) -> anyhow::Result<Vec<u8>> {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.path().cmp(b.path()));
    let mut builder = tar::Builder::new(Vec::new());
    for entry in sorted {
        let mut header = tar::Header::new_gnu();
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(FIXED_MTIME);
        match entry {
            Entry::File {
                path,
                mode,
                contents,
            } => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(*mode);
                header.set_size(contents.len() as u64);
                builder
                    .append_data(&mut header, path, contents.as_slice())
                    .with_context(|| format!("adding {path} to the build context"))?;
            }
            Entry::Dir { path, mode } => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(*mode);
                header.set_size(0);
                builder
                    .append_data(&mut header, path, std::io::empty())
                    .with_context(|| format!("adding {path}/ to the build context"))?;
            }
            Entry::Symlink { path, target } => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_mode(0o777);
                header.set_size(0);
                builder
                    .append_link(&mut header, path, target)
                    .with_context(|| format!("adding the link {path} to the build context"))?;
            }
        }
    }
    builder
        .into_inner()
        .context("finishing the build context archive")
}

/// The repository (or any folder) as a build context: every file `.dockerignore` keeps,
/// plus the paths in `always` (Docker always sends the Dockerfile, even when ignored).
pub fn folder_context(root: &Path, always: &[&str]) -> anyhow::Result<Vec<u8>> {
    let ignore_file = root.join(".dockerignore");
    let rules = match std::fs::read_to_string(&ignore_file) {
        Ok(text) => DockerIgnore::parse(&text),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => DockerIgnore::default(),
        Err(err) => {
            return Err(err).with_context(|| format!("reading {}", ignore_file.display()));
        }
    };
    let mut entries = Vec::new();
    collect(root, "", &rules, &mut entries)?;
    for path in always {
        if !entries.iter().any(|e| e.path() == *path) {
            let full = root.join(path);
            let contents =
                std::fs::read(&full).with_context(|| format!("reading {}", full.display()))?;
            entries.push(Entry::File {
                path: (*path).to_owned(),
                mode: 0o644,
                contents,
            });
        }
    }
    tar_of(&entries)
}

/// Walks `root/relative`, adding what the rules keep; an excluded folder is entered only when
/// an exception (`!pattern`) could re-include something inside it.
fn collect(
    root: &Path,
    relative: &str,
    rules: &DockerIgnore,
    entries: &mut Vec<Entry>,
) -> anyhow::Result<()> {
    let folder = root.join(relative);
    let listing =
        std::fs::read_dir(&folder).with_context(|| format!("listing {}", folder.display()))?;
    let mut children = Vec::new();
    for child in listing {
        let child = child.with_context(|| format!("listing {}", folder.display()))?;
        children.push(child);
    }
    children.sort_by_key(|c| c.file_name());
    for child in children {
        let name = child.file_name();
        let name = name
            .to_str()
            .with_context(|| format!("{} has a name that is not UTF-8", child.path().display()))?;
        let path = if relative.is_empty() {
            name.to_owned()
        } else {
            format!("{relative}/{name}")
        };
        let file_type = child
            .file_type()
            .with_context(|| format!("inspecting {path}"))?;
        let excluded = rules.is_excluded(&path);
        if file_type.is_dir() {
            if !excluded || rules.may_include_under(&path) {
                collect(root, &path, rules, entries)?;
            }
        } else if excluded {
            continue;
        } else if file_type.is_symlink() {
            let target = std::fs::read_link(child.path())
                .with_context(|| format!("reading the link {path}"))?;
            entries.push(Entry::Symlink {
                path,
                target: target.to_string_lossy().into_owned(),
            });
        } else if file_type.is_file() {
            let contents =
                std::fs::read(child.path()).with_context(|| format!("reading {path}"))?;
            let mode = if is_executable(&child.path()) {
                0o755
            } else {
                0o644
            };
            entries.push(Entry::File {
                path,
                mode,
                contents,
            });
        }
    }
    Ok(())
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

/// The rules of a `.dockerignore` file, with Docker's meaning: patterns are relative to the
/// context root, `*`/`?`/`[…]` match within one path segment, `**` any number of segments,
/// a pattern that matches a folder excludes everything in it, `!` re-includes, and the last
/// matching rule wins.
#[derive(Debug, Default)]
pub struct DockerIgnore {
    rules: Vec<Rule>,
}

#[derive(Debug)]
struct Rule {
    exception: bool,
    segments: Vec<String>,
}

impl DockerIgnore {
    pub fn parse(text: &str) -> Self {
        let rules = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .filter_map(|line| {
                let (exception, pattern) = match line.strip_prefix('!') {
                    Some(rest) => (true, rest.trim()),
                    None => (false, line),
                };
                let segments: Vec<String> = pattern
                    .split('/')
                    .filter(|s| !s.is_empty() && *s != ".")
                    .map(str::to_owned)
                    .collect();
                (!segments.is_empty()).then_some(Rule {
                    exception,
                    segments,
                })
            })
            .collect();
        Self { rules }
    }

    /// True when `path` (relative, `/`-separated) is left out of the context.
    pub fn is_excluded(&self, path: &str) -> bool {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut excluded = false;
        for rule in &self.rules {
            // A rule matching the path or any folder above it applies to the path.
            let applies =
                (1..=segments.len()).any(|n| matches_segments(&rule.segments, &segments[..n]));
            if applies {
                excluded = !rule.exception;
            }
        }
        excluded
    }

    /// True when some exception could re-include a path below the folder `dir`.
    pub fn may_include_under(&self, dir: &str) -> bool {
        let segments: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
        self.rules
            .iter()
            .filter(|r| r.exception)
            .any(|r| could_match_below(&r.segments, &segments))
    }
}

fn matches_segments(pattern: &[String], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((first, rest)) if first == "**" => {
            (0..=path.len()).any(|skip| matches_segments(rest, &path[skip..]))
        }
        Some((first, rest)) => match path.split_first() {
            Some((segment, path_rest)) => {
                glob_segment(first, segment) && matches_segments(rest, path_rest)
            }
            None => false,
        },
    }
}

fn could_match_below(pattern: &[String], dir: &[&str]) -> bool {
    match (pattern.split_first(), dir.split_first()) {
        // The pattern matched the folder or a folder above it: it re-includes everything inside.
        (None, _) => true,
        (Some((first, _)), _) if first == "**" => true,
        (Some(_), None) => true,
        (Some((first, rest)), Some((segment, dir_rest))) => {
            glob_segment(first, segment) && could_match_below(rest, dir_rest)
        }
    }
}

/// Matches one path segment against one pattern segment (`*`, `?`, `[a-z]`, `[!x]`, `\` escapes).
fn glob_segment(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    glob_chars(&pattern, &text)
}

fn glob_chars(pattern: &[char], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => (0..=text.len()).any(|skip| glob_chars(rest, &text[skip..])),
        Some(('?', rest)) => !text.is_empty() && glob_chars(rest, &text[1..]),
        Some(('[', rest)) => match (text.split_first(), class_end(rest)) {
            (Some((c, text_rest)), Some(end)) => {
                in_class(&rest[..end], *c) && glob_chars(&rest[end + 1..], text_rest)
            }
            // An unclosed `[` is a literal character.
            (Some((c, text_rest)), None) => *c == '[' && glob_chars(rest, text_rest),
            (None, _) => false,
        },
        Some(('\\', rest)) if !rest.is_empty() => {
            text.first() == Some(&rest[0]) && glob_chars(&rest[1..], &text[1..])
        }
        Some((literal, rest)) => text.first() == Some(literal) && glob_chars(rest, &text[1..]),
    }
}

/// The index of the `]` closing a class that starts just after `[`.
fn class_end(class: &[char]) -> Option<usize> {
    let start = usize::from(matches!(class.first(), Some('!' | '^')));
    // A `]` right after the opening (or its negation) is a member, not the end.
    class
        .iter()
        .skip(start + 1)
        .position(|c| *c == ']')
        .map(|i| i + start + 1)
}

fn in_class(class: &[char], c: char) -> bool {
    let (negated, members) = match class.split_first() {
        Some(('!' | '^', rest)) => (true, rest),
        _ => (false, class),
    };
    let mut found = false;
    let mut i = 0;
    while i < members.len() {
        if i + 2 < members.len() && members[i + 1] == '-' {
            found |= members[i] <= c && c <= members[i + 2];
            i += 3;
        } else {
            found |= members[i] == c;
            i += 1;
        }
    }
    found != negated
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn rules(text: &str) -> DockerIgnore {
        DockerIgnore::parse(text)
    }

    #[test]
    fn a_plain_name_excludes_that_path_at_the_root_and_everything_inside_it() {
        let ignore = rules("target\n");
        assert!(ignore.is_excluded("target"), "the folder itself");
        assert!(
            ignore.is_excluded("target/release/backend"),
            "files inside it"
        );
        assert!(
            !ignore.is_excluded("services/backend/target"),
            "Docker anchors patterns at the root"
        );
        assert!(
            !ignore.is_excluded("targets"),
            "a longer name is another path"
        );
    }

    #[test]
    fn double_star_matches_any_number_of_folders() {
        let ignore = rules("**/target\n**/*.db\n");
        assert!(ignore.is_excluded("target/x"));
        assert!(ignore.is_excluded("services/backend/target/debug/x"));
        assert!(ignore.is_excluded("data/todo.db"));
        assert!(
            ignore.is_excluded("todo.db"),
            "`**` also matches zero folders"
        );
        assert!(!ignore.is_excluded("services/backend/src/db.rs"));
    }

    #[test]
    fn the_last_matching_rule_wins_and_exceptions_re_include() {
        let ignore = rules("*\n!services\n!Cargo.*\nservices/**/*.md\n");
        assert!(ignore.is_excluded(".git/config"));
        assert!(ignore.is_excluded("README.md"));
        assert!(!ignore.is_excluded("Cargo.toml"));
        assert!(!ignore.is_excluded("Cargo.lock"));
        assert!(!ignore.is_excluded("services/backend/src/main.rs"));
        assert!(
            ignore.is_excluded("services/backend/README.md"),
            "a later rule excludes again"
        );
    }

    #[test]
    fn comments_blank_lines_and_leading_slashes_are_handled_like_docker() {
        let ignore = rules("# a comment\n\n   \n/secrets/\n./local.env\n");
        assert!(ignore.is_excluded("secrets/key.pem"));
        assert!(ignore.is_excluded("local.env"));
        assert!(
            !ignore.is_excluded("# a comment"),
            "a comment is not a pattern"
        );
    }

    #[test]
    fn wildcards_and_classes_stay_within_one_segment() {
        let ignore = rules("*.log\nbuild-?\ncache[0-9]\nnot[!a]x\n");
        assert!(ignore.is_excluded("server.log"));
        assert!(
            !ignore.is_excluded("logs/server.log"),
            "`*` does not cross `/`"
        );
        assert!(ignore.is_excluded("build-1"));
        assert!(!ignore.is_excluded("build-10"));
        assert!(ignore.is_excluded("cache7"));
        assert!(!ignore.is_excluded("cachex"));
        assert!(ignore.is_excluded("notbx"));
        assert!(!ignore.is_excluded("notax"));
    }

    #[test]
    fn excluded_folders_are_entered_only_when_an_exception_reaches_inside() {
        let ignore = rules("*\n!services/\n!xtask/Cargo.toml\n**/target\n");
        assert!(ignore.may_include_under("services"));
        assert!(ignore.may_include_under("xtask"));
        assert!(
            !ignore.may_include_under("target"),
            "nothing under target is ever re-included"
        );
        assert!(!ignore.may_include_under(".git"));
    }

    #[test]
    fn a_folder_context_keeps_what_the_rules_keep_and_always_sends_the_dockerfile() {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        };
        write(
            ".dockerignore",
            "*\n!src\ndocker/Dockerfile\nsrc/**/*.secret\n",
        );
        write("src/main.rs", "fn main() {}");
        write("src/deep/key.secret", "hunter2");
        write("target/debug/big", "binary");
        write(".env", "SECRET=1");
        write("docker/Dockerfile", "FROM scratch");

        let archive = folder_context(dir.path(), &["docker/Dockerfile"]).unwrap();
        let mut names: Vec<String> = tar::Archive::new(archive.as_slice())
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["docker/Dockerfile", "src/main.rs"],
            "only kept files are sent"
        );
    }

    #[test]
    fn the_projects_dockerignore_sends_sources_and_leaves_out_secrets_and_build_output() {
        let text = std::fs::read_to_string(crate::project::root().join(".dockerignore")).unwrap();
        let ignore = rules(&text);
        for kept in [
            "Cargo.toml",
            "Cargo.lock",
            "services/backend/src/main.rs",
            "xtask/Cargo.toml",
            // The frontend embeds the Grafana dashboard's panels.
            "deploy/helm/todo-chatbot/dashboards/todo-chatbot.json",
        ] {
            assert!(
                !ignore.is_excluded(kept),
                "{kept} must reach the hermetic build"
            );
        }
        for left_out in [
            "target/release/backend",
            ".git/HEAD",
            ".env",
            ".venv/bin/python",
            "services/backend/target/x",
            "data/todo.db",
            "deploy/helm/todo-chatbot/values.yaml",
        ] {
            assert!(
                ignore.is_excluded(left_out),
                "{left_out} must not reach a Docker daemon"
            );
        }
    }

    #[test]
    fn archives_are_deterministic_and_keep_modes() {
        let entries = vec![
            Entry::File {
                path: "b".into(),
                mode: 0o755,
                contents: b"bin".to_vec(),
            },
            Entry::Dir {
                path: "data".into(),
                mode: 0o750,
            },
            Entry::File {
                path: "a".into(),
                mode: 0o644,
                contents: b"text".to_vec(),
            },
        ];
        let mut reversed = entries.clone();
        reversed.reverse();
        let archive = tar_of(&entries).unwrap();
        assert_eq!(
            archive,
            tar_of(&reversed).unwrap(),
            "the order of the inputs must not matter"
        );
        let modes: Vec<(String, u32)> = tar::Archive::new(archive.as_slice())
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    e.header().mode().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            modes,
            [
                ("a".into(), 0o644),
                ("b".into(), 0o755),
                ("data".into(), 0o750)
            ]
        );
    }
}
