// Failures' message and stack trace travel in a payload (encodedAttributes), so the payload codec
// encrypts them like every other payload; clients and the codec server decode them back.
// CommonJS: the worker loads it by path with require (dataConverter.failureConverterPath), and the
// workflow bundle includes it (workers/workflow-bundle.ts), so both sides of a worker use it.
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
