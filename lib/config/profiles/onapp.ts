import { z } from 'zod';
import { profileBase, secretRef } from '../profile-parts';

/**
 * OnApp Control Panel: the base URL (e.g. https://onapp.example.com), HTTP Basic credentials (an
 * API key may stand in for the password), and which of the API's two formats to speak.
 */
export const onappProfile = z.object({
  vendor: z.literal('onapp'),
  ...profileBase,
  /** `.json` (default) or `.xml` resources; both parse into the same typed objects. */
  format: z.enum(['json', 'xml']).default('json'),
  auth: z.object({ username: z.string().min(1), password: secretRef }),
});
export type OnappProfile = z.infer<typeof onappProfile>;
