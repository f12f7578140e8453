// Placeholder until the admin API has file operations.
export const FILES_OPERATION = 'files';
export async function filesView() {}
