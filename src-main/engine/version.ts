import pkg from '../../package.json';

/** ModeLab's version, from package.json. */
export const VERSION: string = pkg.version;
