// Renders a React hook the way a page would, with react-test-renderer (no DOM
// needed): the hook runs inside a real component, effects run on React's own
// scheduler, and every committed value is recorded.
import { createElement } from 'react';
import TestRenderer from 'react-test-renderer';

/**
 * renderHook(() => useSomething(args)) → { values, get current(), unmount() }.
 * `values` holds what the hook returned on every render, oldest first.
 */
export function renderHook(useHook) {
  const values = [];
  function Probe() {
    values.push(useHook());
    return null;
  }
  const renderer = TestRenderer.create(createElement(Probe));
  return {
    values,
    get current() {
      return values[values.length - 1];
    },
    unmount() {
      renderer.unmount();
    },
  };
}
