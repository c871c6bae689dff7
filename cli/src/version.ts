/** The CLI's version, from cli/package.json (inlined by the bundler). */
import packageJson from '../package.json';

export const CLI_VERSION: string = packageJson.version;
