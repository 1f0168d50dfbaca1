import { Dialog } from '../dialog.js';

/** An image attachment at full size. */
export function ImageDialog(props: { url: string; name: string; onClose: () => void }) {
  return (
    <Dialog title={props.name} onClose={props.onClose} class="image-dialog">
      <img class="full-image" src={props.url} alt={props.name} />
      <p>
        <a href={props.url} target="_blank" rel="noopener noreferrer">
          Open original
        </a>
      </p>
    </Dialog>
  );
}
