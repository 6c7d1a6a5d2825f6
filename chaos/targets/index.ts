/** Every workflow the chaos run drives: one entry each. */
import type { ChaosTarget } from '../types';
import { ovirtTarget } from './ovirt';

export const TARGETS: Record<string, () => Promise<ChaosTarget>> = {
  ovirt: ovirtTarget,
};
