// @ts-check
// Settings → Programs: where a service's programs come from — downloaded by ClaraVerse, or a
// folder the user already has. Pure: no DOM.

/** @typedef {import('../types/ProgramsView').ProgramsView} ProgramsView */

const text = (/** @type {unknown} */ value) => (typeof value === 'string' ? value : '');

/**
 * A `list_programs` entry with every field filled in; null without a service name.
 * @param {Partial<ProgramsView> | null | undefined} raw
 * @returns {ProgramsView | null}
 */
export function normalizePrograms(raw) {
  const service = text(raw?.service);
  if (!service) return null;
  return {
    service,
    description: text(raw?.description) || null,
    folder: text(raw?.folder),
    downloaded: raw?.downloaded !== false,
    shipped: raw?.shipped === true,
    builds: Array.isArray(raw?.builds) ? raw.builds.filter((build) => typeof build === 'string') : [],
    build: text(raw?.build) || null,
    chosenBuild: text(raw?.chosenBuild) || null,
    models: text(raw?.models) || null,
  };
}

/** @type {Record<string, string>} */
const BUILD_NAMES = {
  cuda: 'CUDA (NVIDIA graphics cards)',
  vulkan: 'Vulkan (most graphics cards)',
  metal: 'Metal (Apple silicon)',
  cpu: 'The processor only',
};

/**
 * The choices of build, for a select: the best for this computer (the default), then each
 * build offered; the selected one is what the user chose.
 * @param {ProgramsView} programs
 * @returns {{ value: string, label: string, selected: boolean }[]}
 */
export function buildOptions(programs) {
  if (programs.builds.length === 0) return [];
  const best = programs.chosenBuild || !programs.build
    ? 'The best for this computer'
    : `The best for this computer: ${BUILD_NAMES[programs.build] ?? programs.build}`;
  return [
    { value: '', label: best, selected: !programs.chosenBuild },
    ...programs.builds.map((build) => ({
      value: build,
      label: BUILD_NAMES[build] ?? build,
      selected: programs.chosenBuild === build,
    })),
  ];
}

/**
 * Where the programs come from now, in a sentence.
 * @param {ProgramsView} programs
 */
export function programsLine(programs) {
  if (programs.downloaded) return `ClaraVerse downloads them into ${programs.folder}.`;
  if (programs.shipped) return `The ones that came with ClaraVerse, in ${programs.folder}.`;
  return `From your folder ${programs.folder}.`;
}

/**
 * Why `folder` cannot be tried, in a sentence; null when it can.
 * @param {string} folder
 * @returns {string | null}
 */
export function folderProblem(folder) {
  const trimmed = folder.trim();
  if (!trimmed) return 'Write the full path of the folder that holds the programs first.';
  const absolute = trimmed.startsWith('/') || /^[A-Za-z]:[\\/]/.test(trimmed) || trimmed.startsWith('\\\\');
  if (!absolute) return `"${trimmed}" is not a full path: write the whole path of the folder, from its start.`;
  return null;
}
