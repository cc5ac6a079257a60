/**
 * fabric-contract-api logs every @Transaction decoration at INFO on stdout (winston), which
 * would interleave with CLI output and benchmark JSON. Default its level to WARNING unless the
 * operator chose one; imported before fabric-contract-api so its loggers pick the level up.
 */
process.env['CORE_CHAINCODE_LOGGING_LEVEL'] ??= 'WARNING';

/** The level fabric-contract-api's loggers use. */
export const contractApiLogLevel = process.env['CORE_CHAINCODE_LOGGING_LEVEL'];
