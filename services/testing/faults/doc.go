// Package faults holds Portico's cross-cutting fault tests: they wire the real pieces
// together — the dev identity provider, the BFF with a signed-in browser session, the
// services' server (authn middleware, token verifier, InferenceService, SQLite store) and
// the local AWS endpoint — and break one of them on purpose, checking what the browser sees
// (a clear connect code or page) and that the books stay right (every reservation settled,
// quota counters equal to the ledger, read back from the SQLite file).
//
// The package has no code of its own besides these tests and the fuzz targets of the BFF's
// proxy routing and of the AWS event-stream decoding the services rely on. Faults confined
// to one piece are tested in that piece's package:
//
//   - identity provider down, for the BFF alone: bff TestIdPDown; for the key set:
//     services/token TestKeySetServesCacheWhileIssuerDown, TestKeySetRotation,
//     TestKeySetNoRefetchStorm;
//   - every Bedrock fault, stream cuts and client cancellation at the service:
//     services/inference TestUpstreamFaults, TestStreamCut, TestClientCancelMidStream; at the
//     provider: services/bedrock TestConverseFaults, TestConverseStreamFaults,
//     TestConverseStreamCancel; on the endpoint itself: services/dev/localaws
//     TestStreamClientGoneStopsGeneration;
//   - store unavailable at the service: services/inference TestStoreUnavailable; inside the
//     stores: services/store/sqlitestore and services/store/dynamostore fault tests;
//   - a browser leaving mid-stream, at the BFF: bff TestStreamCancelledWhenBrowserLeaves.
package faults
