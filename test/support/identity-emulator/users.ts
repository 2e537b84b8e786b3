/**
 * The people who can "sign in" at the emulator, with the properties Graph returns for them.
 * Values are Microsoft's well-known demo personas on a made-up domain.
 */
export interface EmulatedUser {
  /** Entra object id (`oid`, Graph `id`): a GUID. */
  id: string;
  /** Directory (tenant) id (`tid`): a GUID. */
  tenantId: string;
  displayName: string;
  givenName: string | null;
  surname: string | null;
  userPrincipalName: string;
  mail: string | null;
  jobTitle: string | null;
  officeLocation: string | null;
  mobilePhone: string | null;
  businessPhones: string[];
  preferredLanguage: string | null;
  /** Object id of this person's manager; without one `/me/manager` is a 404, as in Graph. */
  managerId?: string;
  /** More Graph properties (department, city, ...): returned only when `$select` asks for them. */
  extra?: Record<string, unknown>;
}

export const CONTOSO_TENANT_ID = '5b3ee2e6-c1a8-4b1f-9e7d-0c3f8a6d2e41';
export const ADELE_ID = '87d349ed-44d7-43e1-9a83-5f2406dee5bd';
export const MEGAN_ID = '48d31887-5fad-4d73-a9f5-3c356e68a038';

/** Adele Vance, whose manager is Megan Bowen; Megan has no manager. A fresh copy each call. */
export function defaultUsers(): EmulatedUser[] {
  return [
    {
      id: ADELE_ID,
      tenantId: CONTOSO_TENANT_ID,
      displayName: 'Adele Vance',
      givenName: 'Adele',
      surname: 'Vance',
      userPrincipalName: 'AdeleV@contoso.example',
      mail: 'AdeleV@contoso.example',
      jobTitle: 'Retail Manager',
      officeLocation: '18/2111',
      mobilePhone: null,
      businessPhones: ['+1 425 555 0109'],
      preferredLanguage: 'en-US',
      managerId: MEGAN_ID,
      extra: { department: 'Retail', city: 'Bellevue', country: 'United States', usageLocation: 'US' },
    },
    {
      id: MEGAN_ID,
      tenantId: CONTOSO_TENANT_ID,
      displayName: 'Megan Bowen',
      givenName: 'Megan',
      surname: 'Bowen',
      userPrincipalName: 'MeganB@contoso.example',
      mail: 'MeganB@contoso.example',
      jobTitle: 'Marketing Manager',
      officeLocation: '12/1110',
      mobilePhone: null,
      businessPhones: ['+1 412 555 0109'],
      preferredLanguage: 'en-US',
      extra: { department: 'Marketing', city: 'Pittsburgh', country: 'United States', usageLocation: 'US' },
    },
  ];
}

/** Looks people up by object id or (case-insensitively) by UPN, the two ways tests name them. */
export class UserDirectory {
  private readonly users: readonly EmulatedUser[];

  constructor(users: readonly EmulatedUser[]) {
    if (users.length === 0) throw new Error('identity emulator: at least one user is needed');
    const ids = new Set(users.map((u) => u.id.toLowerCase()));
    if (ids.size !== users.length) throw new Error('identity emulator: user ids must be unique');
    this.users = users;
  }

  all(): readonly EmulatedUser[] {
    return this.users;
  }

  first(): EmulatedUser {
    const user = this.users[0];
    if (!user) throw new Error('identity emulator: no users');
    return user;
  }

  find(idOrUpn: string): EmulatedUser | undefined {
    const key = idOrUpn.trim().toLowerCase();
    return this.users.find((u) => u.id.toLowerCase() === key || u.userPrincipalName.toLowerCase() === key);
  }
}
