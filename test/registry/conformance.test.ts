import { registryConformance } from './conformance/suite.js';
import { startStrata } from './helpers/strata-registry.js';

registryConformance('strata, inmemory driver', () => startStrata('inmemory'));
registryConformance('strata, filesystem driver', () => startStrata('filesystem'));
