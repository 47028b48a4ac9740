/** Auth settings that cannot work; thrown at start-up, before anything is served. */
export class AuthSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthSettingsError";
  }
}
