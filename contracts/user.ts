import { z } from 'zod';
import { EntityId } from './device.ts';
import { Role } from './access.ts';

/** A person's login name: what the ledger records as who acted. */
export const UserName = z.string().trim().min(1).max(100).regex(/^[^\s/]+$/, 'no spaces or slashes');

/** NIST SP 800-63B: at least 8 characters, no composition rules; a cap against hashing a megabyte. */
export const Password = z.string().min(8).max(200);

export const UserCreate = z.strictObject({
  name: UserName,
  role: Role.exclude(['service']),
  districts: z.array(EntityId).min(1).max(100).optional(),
  password: Password,
}).refine((u) => !(u.role === 'admin' && u.districts), { message: 'an admin cannot be confined to districts', path: ['districts'] });
export type UserCreate = z.infer<typeof UserCreate>;

export const UserView = z.object({
  name: z.string(),
  role: Role,
  districts: z.array(z.string()).optional(),
  createdAt: z.string(),
  disabled: z.boolean(),
});
export type UserView = z.infer<typeof UserView>;

export const Login = z.strictObject({ name: z.string().min(1).max(100), password: z.string().min(1).max(200) });
export const PasswordChange = z.strictObject({ currentPassword: z.string().min(1).max(200).optional(), newPassword: Password });
