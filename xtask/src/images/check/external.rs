//! The backend image as the chart's external-database mode runs it: no `DATABASE_URL` in the
//! environment, but `DATABASE_URL_FILE` and `BETTER_AUTH_SECRET_FILE` naming files on a
//! read-only mounted Secret (here a volume the engine fills), owned by root, group 10001, mode
//! 0440 as the chart mounts them. An image that sets `DATABASE_URL` itself fails this: the
//! backend refuses a value and a file for one setting.

use std::{collections::HashMap, time::Duration};

use anyhow::{Context, bail, ensure};
use bollard::{
    Docker, body_full,
    errors::Error as EngineError,
    models::{ContainerCreateBody, HostConfig, VolumeCreateRequest},
    query_parameters::{
        CreateContainerOptionsBuilder, DownloadFromContainerOptionsBuilder,
        UploadToContainerOptionsBuilder,
    },
};
use futures::StreamExt;

use super::{CHECK_LABEL, Created, TOKEN_LIFETIME, locked_down, start, stop};
use crate::http;
use crate::images::Built;
use crate::tokens::{mint_token, random_secret};

/// Where the chart mounts its Secret (`secrets.mountPath`).
const SECRETS_DIR: &str = "/var/run/secrets/todo-chatbot";
/// The database the mounted file names: not the default, so the check can tell which one won.
const DATABASE_URL: &str = "sqlite:///data/other.db";
/// The group of the app user (`APP_UID_GID`), which the chart's `fsGroup` gives the files.
const APP_GID: u64 = 10001;
/// Bound on each engine call of this module that moves files.
const ENGINE_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the backend with its database URL and signing key read from mounted files, proves it
/// becomes ready, accepts a token signed with the file's key and uses the file's database.
pub async fn check(
    docker: &Docker,
    backend: &Built,
    network: &str,
    run_id: &str,
    created: &mut Created,
) -> anyhow::Result<()> {
    let secret = random_secret();
    let secrets = create_volume(
        docker,
        &format!("todo-check-{run_id}-secrets"),
        run_id,
        created,
    )
    .await?;
    let data = create_volume(
        docker,
        &format!("todo-check-{run_id}-external-data"),
        run_id,
        created,
    )
    .await?;
    fill_secrets(docker, backend, &secrets, run_id, &secret, created).await?;

    let name = format!("todo-check-{run_id}-external");
    let env = vec![
        format!("DATABASE_URL_FILE={SECRETS_DIR}/database-url"),
        format!("BETTER_AUTH_SECRET_FILE={SECRETS_DIR}/better-auth-secret"),
        "LOG_FORMAT=json".to_owned(),
    ];
    let mut config = locked_down(backend, network, run_id, env);
    if let Some(host) = config.host_config.as_mut() {
        host.binds = Some(vec![
            format!("{data}:/data"),
            format!("{secrets}:{SECRETS_DIR}:ro"),
        ]);
    }
    let port = start(docker, backend.service, &name, config, created).await?;
    let user_id = format!("image-check-{run_id}-external");
    let token = mint_token(&secret, &user_id, TOKEN_LIFETIME)?;
    let list = http::get(
        &super::check_client()?,
        &format!("http://127.0.0.1:{port}/api/{user_id}/tasks"),
        Some(&token),
    )
    .await?;
    ensure!(
        list.status == 200,
        "backend (external mode): a token signed with the mounted secret got {} instead of 200: {}",
        list.status,
        list.body
    );
    stop(docker, &name).await?;
    ensure!(
        file_exists(docker, &name, "/data/other.db").await?,
        "backend (external mode): /data/other.db, named by DATABASE_URL_FILE, was not created"
    );
    ensure!(
        !file_exists(docker, &name, "/data/todo.db").await?,
        "backend (external mode): the default /data/todo.db was used instead of DATABASE_URL_FILE's"
    );
    println!(
        "    backend: ready with DATABASE_URL_FILE and BETTER_AUTH_SECRET_FILE on a read-only \
         mount (the chart's external mode); the file's key and database were used"
    );
    Ok(())
}

/// True when `path` exists in the container (running or not; volumes included).
pub async fn file_exists(docker: &Docker, name: &str, path: &str) -> anyhow::Result<bool> {
    let options = DownloadFromContainerOptionsBuilder::default()
        .path(path)
        .build();
    let read = async {
        let mut archive = docker.download_from_container(name, Some(options));
        while let Some(chunk) = archive.next().await {
            match chunk {
                Ok(_) => {}
                Err(EngineError::DockerResponseServerError {
                    status_code: 404, ..
                }) => return Ok(false),
                Err(err) => {
                    return Err(err).with_context(|| format!("reading {path} from {name}"));
                }
            }
        }
        Ok(true)
    };
    match tokio::time::timeout(ENGINE_TIMEOUT, read).await {
        Ok(found) => found,
        Err(_) => bail!(
            "the engine did not send {path} from {name} within {} s",
            ENGINE_TIMEOUT.as_secs()
        ),
    }
}

async fn create_volume(
    docker: &Docker,
    name: &str,
    run_id: &str,
    created: &mut Created,
) -> anyhow::Result<String> {
    docker
        .create_volume(VolumeCreateRequest {
            name: Some(name.to_owned()),
            labels: Some(HashMap::from([(CHECK_LABEL.to_owned(), run_id.to_owned())])),
            ..Default::default()
        })
        .await
        .with_context(|| format!("creating the volume {name}"))?;
    created.volumes.push(name.to_owned());
    Ok(name.to_owned())
}

/// Writes the two secret files into `volume` through a container that is never started (the
/// images have no shell, and a remote engine cannot bind-mount a host folder).
async fn fill_secrets(
    docker: &Docker,
    backend: &Built,
    volume: &str,
    run_id: &str,
    secret: &str,
    created: &mut Created,
) -> anyhow::Result<()> {
    let name = format!("todo-check-{run_id}-secrets-writer");
    let config = ContainerCreateBody {
        image: Some(backend.reference.clone()),
        labels: Some(HashMap::from([(CHECK_LABEL.to_owned(), run_id.to_owned())])),
        host_config: Some(HostConfig {
            binds: Some(vec![format!("{volume}:{SECRETS_DIR}")]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let options = CreateContainerOptionsBuilder::default().name(&name).build();
    docker
        .create_container(Some(options), config)
        .await
        .with_context(|| format!("creating the container {name}"))?;
    created.containers.push(name.clone());
    let archive = secret_files(&[
        ("database-url", DATABASE_URL),
        ("better-auth-secret", secret),
    ])?;
    // Without `copyUIDGID` the engine keeps the owners the archive names (with it, the files
    // would belong to the container's user).
    let options = UploadToContainerOptionsBuilder::default()
        .path(SECRETS_DIR)
        .build();
    let upload = docker.upload_to_container(&name, Some(options), body_full(archive.into()));
    tokio::time::timeout(ENGINE_TIMEOUT, upload)
        .await
        .with_context(|| {
            format!("the engine did not write the secret files into {volume} in time")
        })?
        .with_context(|| format!("writing the secret files into the volume {volume}"))
}

/// A tar of files as a Kubernetes Secret volume shows them: root-owned, group 10001, 0440.
fn secret_files(files: &[(&str, &str)]) -> anyhow::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, contents) in files {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_uid(0);
        header.set_gid(APP_GID);
        header.set_mode(0o440);
        header.set_size(contents.len() as u64);
        builder
            .append_data(&mut header, name, contents.as_bytes())
            .with_context(|| format!("adding {name} to the secret files"))?;
    }
    builder.into_inner().context("finishing the secret files")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secret_files_are_root_owned_group_readable_by_the_app_only() {
        let archive = secret_files(&[("database-url", DATABASE_URL)]).unwrap();
        let mut archive = tar::Archive::new(archive.as_slice());
        let entry = archive.entries().unwrap().next().unwrap().unwrap();
        let header = entry.header();
        assert_eq!(header.path().unwrap().to_str(), Some("database-url"));
        assert_eq!((header.uid().unwrap(), header.gid().unwrap()), (0, APP_GID));
        assert_eq!(header.mode().unwrap(), 0o440);
        assert_eq!(header.size().unwrap(), DATABASE_URL.len() as u64);
    }
}
