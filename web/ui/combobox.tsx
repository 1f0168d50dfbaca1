// An accessible combobox (WAI-ARIA 1.2, list autocomplete): type, move with the arrow keys,
// pick with Enter or a click. Options come from `search`, debounced.
import { useEffect, useRef, useState } from 'preact/hooks';
import { showError } from './alerts.js';

export interface Option<T> {
  key: string | number;
  label: string;
  detail?: string;
  value: T;
}

let counter = 0;

export function Combobox<T>(props: {
  label: string;
  placeholder?: string;
  search: (text: string) => Promise<Option<T>[]> | Option<T>[];
  onPick: (value: T, option: Option<T>) => void;
  /** Keep the typed text after a pick (a single choice shows what was picked). */
  keepText?: boolean;
  autoFocus?: boolean;
  minChars?: number;
}) {
  const id = useRef(`combo-${++counter}`).current;
  const [text, setText] = useState('');
  const [options, setOptions] = useState<Option<T>[]>([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const seq = useRef(0);

  useEffect(() => {
    const minChars = props.minChars ?? 1;
    if (text.trim().length < minChars) {
      setOptions([]);
      setOpen(false);
      return;
    }
    const mine = ++seq.current;
    const timer = setTimeout(async () => {
      try {
        const found = await props.search(text.trim());
        if (mine !== seq.current) return;
        setOptions(found);
        setActive(found.length ? 0 : -1);
        setOpen(true);
      } catch (err) {
        showError(err);
      }
    }, 150);
    return () => clearTimeout(timer);
  }, [text]);

  const pick = (o: Option<T>) => {
    props.onPick(o.value, o);
    setText(props.keepText ? o.label : '');
    setOpen(false);
    setOptions([]);
    seq.current++;
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      if (!open && options.length) setOpen(true);
      setActive((a) => Math.min(options.length - 1, a + 1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((a) => Math.max(0, a - 1));
    } else if (e.key === 'Enter') {
      if (open && active >= 0 && options[active]) {
        e.preventDefault();
        pick(options[active]);
      }
    } else if (e.key === 'Escape' && open) {
      e.preventDefault();
      e.stopPropagation();
      setOpen(false);
    }
  };

  const expanded = open && options.length > 0;
  return (
    <div class="combobox">
      <label for={`${id}-input`}>{props.label}</label>
      <input
        id={`${id}-input`}
        type="text"
        role="combobox"
        autoComplete="off"
        spellcheck={false}
        autoFocus={props.autoFocus}
        placeholder={props.placeholder}
        aria-autocomplete="list"
        aria-expanded={expanded}
        aria-controls={`${id}-list`}
        aria-activedescendant={expanded && active >= 0 ? `${id}-opt-${active}` : undefined}
        value={text}
        onInput={(e) => setText((e.target as HTMLInputElement).value)}
        onKeyDown={onKeyDown}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
      />
      <ul id={`${id}-list`} role="listbox" aria-label={props.label} class="listbox" hidden={!expanded}>
        {options.map((o, i) => (
          <li
            id={`${id}-opt-${i}`}
            key={o.key}
            role="option"
            aria-selected={i === active}
            class={i === active ? 'option active' : 'option'}
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => pick(o)}
          >
            <span class="option-label">{o.label}</span>
            {o.detail && <span class="option-detail"> {o.detail}</span>}
          </li>
        ))}
      </ul>
      {open && text.trim() && options.length === 0 && <p class="hint">No matches.</p>}
    </div>
  );
}
