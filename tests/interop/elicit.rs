//! Both SDKs as the user of the catalog example's delete action, which asks for confirmation
//! (`confirm = "Delete {entity_ref} from the catalog?"`): the TypeScript SDK over HTTP+SSE
//! (`elicitation/create`, 2025-11-25), the Python SDK on 2026-07-28 (input-required results).

use anyhow::Result;

use super::{TOKEN, passed_checks, python, report, run_script, start_server, stop, tooling};

/// The Python SDK as the user of the catalog's delete action on 2026-07-28 (input-required
/// results answered through its elicitation callback): declined, cancelled, accepted, and
/// refused without the capability; and on 2025-11-25 over Streamable HTTP (`elicitation/create`
/// on the call's SSE stream, the answer POSTed back in the sealed session): declined, accepted,
/// refused without the capability.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_confirms_the_catalog_delete() -> Result<()> {
    let Some(python) = python() else {
        return Ok(());
    };
    let server = start_server(&["catalog"], catalog::setup).await?;
    let run = run_script(
        python,
        "py-elicit.py",
        &["--url", &server.endpoint, "--token", TOKEN],
    )
    .await;
    stop(server).await;
    let run = run?;
    eprintln!("{}", report("py-elicit.py", &run, false));
    let passed = passed_checks(&run, "Python SDK elicitation interop failed");
    assert_eq!(
        passed,
        [
            "auto:decline",
            "auto:cancel",
            "auto:accept",
            "auto:no-capability",
            "legacy:decline",
            "legacy:accept",
            "legacy:no-capability"
        ]
    );
    Ok(())
}

/// The TypeScript SDK as the user of the catalog's delete action, which asks for confirmation
/// with 2025-11-25 `elicitation/create`: declined, cancelled and accepted over Streamable HTTP
/// (a sealed session id, the question on the call's SSE stream, the answer POSTed back) and over
/// the HTTP+SSE transport; a typed question (`ask_deploy`) answered over Streamable HTTP; and
/// refused for a client without the elicitation capability.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typescript_sdk_confirms_the_catalog_delete() -> Result<()> {
    let Some(tools) = tooling() else {
        return Ok(());
    };
    let server = start_server(&["catalog", "ask"], catalog::setup).await?;
    let run = run_script(
        &tools.node,
        "elicit-client.mjs",
        &["--url", &server.endpoint, "--token", TOKEN],
    )
    .await;
    stop(server).await;
    let run = run?;
    eprintln!("{}", report("elicit-client.mjs", &run, false));
    let passed = passed_checks(&run, "TypeScript SDK elicitation interop failed");
    assert_eq!(
        passed,
        [
            "http-decline",
            "http-cancel",
            "http-accept",
            "http-elicit",
            "sse-decline",
            "sse-cancel",
            "sse-accept",
            "no-capability"
        ]
    );
    Ok(())
}
