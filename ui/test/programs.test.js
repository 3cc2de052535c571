// @ts-check
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildOptions, folderProblem, normalizePrograms, programsLine } from '../lib/programs.js';

test('an entry is filled in, and one without a name is dropped', () => {
  assert.deepEqual(normalizePrograms({ service: 'llamaswap', folder: '/p', downloaded: false }), {
    service: 'llamaswap', description: null, folder: '/p', downloaded: false, shipped: false, builds: [], build: null, chosenBuild: null, models: null,
  });
  assert.equal(normalizePrograms({ folder: '/p' }), null);
  assert.equal(normalizePrograms(null), null);
});

test('the line says where the programs come from', () => {
  assert.equal(
    programsLine({ service: 'llamaswap', description: null, folder: '/home/u/.local/share/ClaraVerse/programs/llamaswap/250+b11195-cpu', downloaded: true, shipped: false, builds: [], build: null, chosenBuild: null, models: null }),
    'ClaraVerse downloads them into /home/u/.local/share/ClaraVerse/programs/llamaswap/250+b11195-cpu.',
  );
  assert.equal(
    programsLine({ service: 'llamaswap', description: null, folder: '/opt/llama', downloaded: false, shipped: false, builds: [], build: null, chosenBuild: null, models: null }),
    'From your folder /opt/llama.',
  );
  assert.equal(
    programsLine({ service: 'llamaswap', description: null, folder: '/usr/lib/ClaraVerse/programs', downloaded: false, shipped: true, builds: [], build: null, chosenBuild: null, models: null }),
    'The ones that came with ClaraVerse, in /usr/lib/ClaraVerse/programs.',
  );
});

test('a folder must be a full path', () => {
  assert.equal(folderProblem('  '), 'Write the full path of the folder that holds the programs first.');
  assert.equal(folderProblem('llama.cpp'), '"llama.cpp" is not a full path: write the whole path of the folder, from its start.');
  assert.equal(folderProblem('/opt/llama'), null);
  assert.equal(folderProblem('C:\\Tools\\llama'), null);
  assert.equal(folderProblem('\\\\server\\share'), null);
});

test('the builds offered, the best for this computer first', () => {
  const programs = {
    service: 'llamaswap', description: null, folder: '/p', downloaded: true, shipped: false,
    builds: ['cpu', 'vulkan'], build: 'vulkan', chosenBuild: null, models: null,
  };
  assert.deepEqual(buildOptions(programs), [
    { value: '', label: 'The best for this computer: Vulkan (most graphics cards)', selected: true },
    { value: 'cpu', label: 'The processor only', selected: false },
    { value: 'vulkan', label: 'Vulkan (most graphics cards)', selected: false },
  ]);
  const chosen = buildOptions({ ...programs, build: 'cpu', chosenBuild: 'cpu' });
  assert.equal(chosen[0].label, 'The best for this computer');
  assert.deepEqual(chosen.filter((option) => option.selected).map((option) => option.value), ['cpu']);
  assert.deepEqual(buildOptions({ ...programs, builds: [] }), []);
});
