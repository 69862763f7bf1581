// docker/cli's table layout: Go's tabwriter with minwidth 10, padding 3; expected outputs are
// real `docker ps` output.
import { describe, expect, it } from 'vitest';
import { tabulate, tabwrite } from './tabwriter.js';

describe('tabwrite', () => {
  it('lays out docker ps as Docker does', () => {
    const rows = [
      ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
      ['da6ba5fc8048', 'ubuntu', '"bash"', 'About a minute ago', 'Exited (0) 11 seconds ago', '', 'amazing_margulis'],
      ['d108b720a077', 'hello-world', '"/hello"', '7 minutes ago', 'Exited (0) 7 minutes ago', '', 'competent_ardinghelli'],
    ];
    expect(tabulate(rows)).toBe(
      'CONTAINER ID   IMAGE         COMMAND    CREATED              STATUS                      PORTS     NAMES\n' +
        'da6ba5fc8048   ubuntu        "bash"     About a minute ago   Exited (0) 11 seconds ago             amazing_margulis\n' +
        'd108b720a077   hello-world   "/hello"   7 minutes ago        Exited (0) 7 minutes ago              competent_ardinghelli\n',
    );
  });

  it('an empty docker ps keeps the minimum width of 10', () => {
    expect(tabulate([['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES']])).toBe(
      'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n',
    );
  });

  it('measures wide characters in display columns', () => {
    expect(tabulate([['NAME', 'X'], ['日本語のなまえ', 'y'], ['ab', 'z']])).toBe(
      'NAME             X\n' + '日本語のなまえ   y\n' + 'ab               z\n',
    );
  });

  it('a line without tabs ends the column block (elastic tabstops)', () => {
    expect(tabwrite('a\tb\nlonger-cell\tc\nno tabs here\nx\ty\n')).toBe(
      'a             b\n' + 'longer-cell   c\n' + 'no tabs here\n' + 'x         y\n',
    );
  });

  it('a trailing tab pads the last cell; text without a final newline is kept', () => {
    expect(tabwrite('a\tb\t\nc\td\t')).toBe('a         b         \nc         d         ');
  });

  it('takes other widths', () => {
    expect(tabwrite('a\tb\nccc\td\n', { minwidth: 0, padding: 1 })).toBe('a   b\nccc d\n');
  });
});
