//! Chain access for jejak: alloy bindings generated from the Foundry artifacts, providers and deployment.
