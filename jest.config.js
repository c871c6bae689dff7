/**
 * One jest run, three projects:
 *  - unit: fast tests next to the code (extension/src, cli/src, synthetic, modes); no servers, no browser.
 *  - conformance: DICOM SEG checked by independent tools (dciodvfy, DCMTK, pydicom) and a real Orthanc.
 *  - e2e: the served viewer in Debian's Chromium through playwright-core.
 */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', tsx: true },
      target: 'es2022',
      transform: { react: { runtime: 'automatic' } },
    },
    module: { type: 'commonjs' },
  },
];

const common = {
  transform: { '^.+\\.(t|j)sx?$': swc },
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'tsx', 'js', 'mjs', 'cjs', 'json'],
};

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/extension/src/**/*.test.ts', '<rootDir>/cli/src/**/*.test.ts', '<rootDir>/synthetic/**/*.test.ts', '<rootDir>/modes/*/src/**/*.test.ts', '<rootDir>/scripts/**/*.test.ts', '<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'conformance',
      testMatch: ['<rootDir>/test/conformance/**/*.test.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
    },
  ],
};
